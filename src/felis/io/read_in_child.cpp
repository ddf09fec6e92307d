#include "felis/io/read_in_child.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FELIS_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FELIS_SANITIZED 1
#endif
#ifdef FELIS_SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

namespace felis {
namespace {

// Exit code of a child stopped by a sanitizer's report.
constexpr int kSanitizerExit = 99;

[[noreturn]] void run_child(const std::function<void()>& read, unsigned seconds, pid_t parent) {
  // A child whose parent is killed (Ctrl-C, SIGKILL) ends too, rather than read on alone.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);
  // The child's crash is the parent's to report: no core file, no output, and the default
  // action for the fatal signals, in place of any handler (a fuzzer's) that would record
  // the input as a crash of its own.
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  const int null = open("/dev/null", O_WRONLY);
  if (null >= 0) {
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  for (int signal : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGALRM}) ::signal(signal, SIG_DFL);
#ifdef FELIS_SANITIZED
  __sanitizer_set_death_callback([] { _exit(kSanitizerExit); });
#endif
  alarm(seconds);
  try {
    read();
  } catch (...) {
  }
  // _exit: no atexit handlers, and no second flush of the parent's buffered output.
  _exit(0);
}

std::string describe(int status, unsigned seconds) {
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    if (signal == SIGALRM) return fmt::format("did not finish within {} s", seconds);
    return fmt::format("crashed with signal {} ({})", signal, strsignal(signal));
  }
  if (WEXITSTATUS(status) == kSanitizerExit) return "crashed with a memory error";
  return fmt::format("stopped with exit code {}", WEXITSTATUS(status));
}

}  // namespace

void read_in_child(const std::filesystem::path& path, const std::function<void()>& read) {
  std::error_code error;
  const uintmax_t bytes = std::filesystem::file_size(path, error);
  const unsigned seconds = child_seconds(error ? 0 : bytes);
  std::fflush(nullptr);
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) {
    throw Error(fmt::format("{}: fork failed before reading it: {}; free some memory or "
                            "processes and try again",
                            path.string(), std::strerror(errno)));
  }
  if (child == 0) run_child(read, seconds, parent);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      throw Error(fmt::format("{}: waitpid failed for the process reading it: {}; try again",
                              path.string(), std::strerror(errno)));
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  throw Error(fmt::format("{}: the HDF5 library {} while reading it; the file is corrupt or "
                          "crafted, so do not use it, and re-download it from its source",
                          path.string(), describe(status, seconds)));
}

}  // namespace felis
