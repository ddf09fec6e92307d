// felis train --checkpoint as a user runs it: a run killed with SIGKILL, or stopped with
// Ctrl-C, and resumed ends with the weights of a run that went through.
#include "felis/io/model_file.h"

#include "support/cli.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

extern char** environ;

namespace felis {
namespace {

namespace fs = std::filesystem;
using fixtures::contains;
using fixtures::run_felis;

std::vector<double> weights(const fs::path& file) {
  Model model = load_model(file);
  std::vector<double> values;
  model.visit([&](auto& network) {
    for (auto& parameter : network.parameters()) {
      for (int64_t k = 0; k < parameter.value->size(); ++k) values.push_back((*parameter.value)[k]);
    }
  });
  return values;
}

// Starts felis with `arguments`, its output to `out` and its errors to /dev/null, and
// returns its process id.
pid_t start_felis(const std::vector<std::string>& arguments, const fs::path& out = "/dev/null") {
  std::vector<std::string> argv_text = {FELIS_BINARY};
  argv_text.insert(argv_text.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (auto& text : argv_text) argv.push_back(text.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, FELIS_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

// Waits up to 60 s for `file` to exist; sends `signal` to `pid` once it does.
bool signal_when_written(pid_t pid, const fs::path& file, int signal) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(file)) return kill(pid, signal) == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

// Waits up to 60 s for `file` to contain `text`; sends `signal` to `pid` once it does.
bool signal_when_printed(pid_t pid, const fs::path& file, const std::string& text, int signal) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(file) && contains(fixtures::read_text(file), text)) return kill(pid, signal) == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

class CheckpointCli : public ::testing::Test {
protected:
  void SetUp() override {
    if (!fs::exists(data / "train_catvnoncat.h5")) {
      GTEST_SKIP() << "the course data is missing: " << data << "/train_catvnoncat.h5";
    }
  }
  fixtures::TempDir dir;
  const fs::path data = fixtures::shared_data("catvnoncat");
  // A small CNN with Adam, dropout and a decaying rate over 8 epochs of 7 steps.
  std::vector<std::string> train_arguments(const std::string& out) const {
    return {"train", "--data", data.string(), "--model",
            "conv:4:3:s=2, relu, maxpool:2, flatten, dropout:0.2, dense:1", "--optimizer", "adam",
            "--learning-rate", "0.002", "--lr-decay", "0.9", "--batch-size", "32", "--epochs",
            "8", "--precision", "float32", "--threads", "2", "--out", out};
  }
  std::string command_line(const std::vector<std::string>& arguments) const {
    std::string line;
    for (const auto& argument : arguments) line += "'" + argument + "' ";
    return line;
  }
};

TEST_F(CheckpointCli, SigkillThenResumeMatchesOneRun) {
  const auto whole = run_felis(dir, command_line(train_arguments((dir / "whole.h5").string())));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;

  auto arguments = train_arguments((dir / "resumed.h5").string());
  arguments.insert(arguments.end(), {"--checkpoint", (dir / "run").string()});
  const pid_t pid = start_felis(arguments);
  ASSERT_GT(pid, 0);
  const bool killed = signal_when_written(pid, dir / "run" / "checkpoint.h5", SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(killed) << "no checkpoint appeared within 60 s";
  ASSERT_TRUE(WIFSIGNALED(status)) << "felis finished before the kill";
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_FALSE(fs::exists(dir / "resumed.h5"));

  arguments.push_back("--resume");
  const auto resumed = run_felis(dir, command_line(arguments));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_TRUE(contains(resumed.out, "resuming after iteration")) << resumed.out;
  EXPECT_EQ(weights(dir / "resumed.h5"), weights(dir / "whole.h5"));
}

TEST_F(CheckpointCli, CtrlCSavesCheckpointAndResumes) {
  auto arguments = train_arguments((dir / "model.h5").string());
  arguments.insert(arguments.end(), {"--checkpoint", (dir / "run").string()});
  const pid_t pid = start_felis(arguments);
  ASSERT_GT(pid, 0);
  const bool sent = signal_when_written(pid, dir / "run" / "checkpoint.h5", SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(sent);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_FALSE(fs::exists(dir / "model.h5"));
  // Nothing but the checkpoint: no temporary file left behind.
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);

  const auto again = run_felis(dir, command_line(arguments));
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_TRUE(contains(again.err, "already contains a checkpoint; add --resume")) << again.err;

  arguments.push_back("--resume");
  const auto resumed = run_felis(dir, command_line(arguments));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto whole = run_felis(dir, command_line(train_arguments((dir / "whole.h5").string())));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(weights(dir / "model.h5"), weights(dir / "whole.h5"));
}

TEST_F(CheckpointCli, CtrlCWithoutCheckpointWritesNothing) {
  auto arguments = train_arguments((dir / "model.h5").string());
  // Enough epochs that the run is still going when the signal comes.
  arguments[arguments.size() - 7] = "500";
  arguments.insert(arguments.end(), {"--metrics", (dir / "metrics.json").string()});
  const pid_t pid = start_felis(arguments, dir / "out.txt");
  ASSERT_GT(pid, 0);
  const bool sent = signal_when_printed(pid, dir / "out.txt", "epoch 1/500", SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(sent) << "no epoch ended within 60 s";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_FALSE(fs::exists(dir / "model.h5"));
  EXPECT_FALSE(fs::exists(dir / "metrics.json"));
  EXPECT_FALSE(contains(fixtures::read_text(dir / "out.txt"), "epoch 500/500"));
}

// A resumed run whose new learning rate diverges stops with the message and leaves the
// checkpoint it started from as it was, and no model file.
TEST_F(CheckpointCli, DivergenceKeepsTheLastGoodCheckpoint) {
  const std::vector<std::string> base = {"train", "--data", data.string(), "--model", "logreg",
                                         "--learning-rate", "0.005", "--iterations", "20",
                                         "--checkpoint", (dir / "run").string(),
                                         "--out", (dir / "model.h5").string()};
  const auto first = run_felis(dir, command_line(base));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  fs::remove(dir / "model.h5");
  const auto good = fixtures::read_bytes(dir / "run" / "checkpoint.h5");

  auto arguments = base;
  arguments[6] = "100000";
  arguments[8] = "40";
  arguments.push_back("--resume");
  const auto r = run_felis(dir, command_line(arguments));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "at iteration 21 with learning rate 100000")) << r.err;
  EXPECT_TRUE(contains(r.err, "try a learning rate 10 times smaller")) << r.err;
  EXPECT_EQ(fixtures::line_count(r.err), 1u) << r.err;
  EXPECT_FALSE(fs::exists(dir / "model.h5"));
  EXPECT_EQ(fixtures::read_bytes(dir / "run" / "checkpoint.h5"), good);
}

TEST_F(CheckpointCli, ResumeWithOtherOptionsIsRejected) {
  auto arguments = train_arguments((dir / "model.h5").string());
  arguments.insert(arguments.end(), {"--checkpoint", (dir / "run").string(), "--checkpoint-every", "3"});
  const auto first = run_felis(dir, command_line(arguments));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  arguments.insert(arguments.end(), {"--resume", "--seed", "5"});
  const auto r = run_felis(dir, command_line(arguments));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "written by a run with seed 1, and this run has 5")) << r.err;
  EXPECT_EQ(fixtures::line_count(r.err), 1u) << r.err;
}

TEST_F(CheckpointCli, OutputOverTheCheckpointIsRejected) {
  fs::create_directories(dir / "run");
  for (const std::string option : {"--out", "--metrics"}) {
    std::vector<std::string> arguments = {"train", "--data", data.string(), "--iterations", "1",
                                          "--checkpoint", (dir / "run").string(), option,
                                          (dir / "run" / "checkpoint.h5").string()};
    const auto r = run_felis(dir, command_line(arguments));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(contains(r.err, "is the checkpoint file of --checkpoint")) << r.err;
  }
}

TEST_F(CheckpointCli, ResumeWithoutCheckpointIsAnError) {
  auto arguments = train_arguments((dir / "model.h5").string());
  arguments.insert(arguments.end(), {"--checkpoint", (dir / "nothing").string(), "--resume"});
  const auto r = run_felis(dir, command_line(arguments));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "no checkpoint there")) << r.err;
}

}  // namespace
}  // namespace felis
