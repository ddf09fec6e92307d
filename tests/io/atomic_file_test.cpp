// Atomic output files: a failed write leaves the target as it was and no temporary file.
#include "felis/io/atomic_file.h"

#include "data/fixtures.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

namespace felis {
namespace {

using fixtures::contains;

TEST(AtomicFile, CommitReplacesTarget) {
  fixtures::TempDir dir;
  fixtures::write_text(dir / "out.json", "old");
  write_json_file(dir / "out.json", {{"a", 1}});
  const auto bytes = fixtures::read_bytes(dir / "out.json");
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "{\n  \"a\": 1\n}\n");
}

// A write that fails part way, here because the file-size limit stops it as a full disk
// would, keeps the old file and leaves no temporary file.
TEST(AtomicFile, FailedWriteKeepsOldContent) {
  fixtures::TempDir dir;
  fixtures::write_text(dir / "model.h5", "old model");
  rlimit old_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // so write() fails with EFBIG
  rlimit small_limit = old_limit;
  small_limit.rlim_cur = 50;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small_limit), 0);
  std::string message;
  {
    AtomicFile file(dir / "model.h5");
    message = fixtures::error_message([&] { file.write(std::vector<char>(100, 'x')); });
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_TRUE(contains(message, "cannot write " + (dir / "model.h5").string())) << message;
  EXPECT_TRUE(contains(message, "File too large")) << message;
  const auto bytes = fixtures::read_bytes(dir / "model.h5");
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "old model");
  const auto temporary = dir / ("model.h5.tmp-" + std::to_string(getpid()));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(temporary)));
}

// A symlink planted under the temporary name is replaced, so its target stays untouched.
TEST(AtomicFile, PlantedSymlinkIsNotFollowed) {
  fixtures::TempDir dir;
  fixtures::write_text(dir / "victim.txt", "keep me");
  std::filesystem::create_symlink(dir / "victim.txt", dir / ("out.png.tmp-" + std::to_string(getpid())));
  AtomicFile file(dir / "out.png");
  file.write({'p', 'n', 'g'});
  file.commit();
  const auto victim = fixtures::read_bytes(dir / "victim.txt");
  EXPECT_EQ(std::string(victim.begin(), victim.end()), "keep me");
  EXPECT_FALSE(std::filesystem::is_symlink(dir / "out.png"));
  const auto written = fixtures::read_bytes(dir / "out.png");
  EXPECT_EQ(std::string(written.begin(), written.end()), "png");
}

TEST(AtomicFile, UncommittedFileLeavesNothing) {
  fixtures::TempDir dir;
  {
    AtomicFile file(dir / "metrics.json");
    file.write({'{', '}'});
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(AtomicFile, OutputPathChecks) {
  fixtures::TempDir dir;
  fixtures::write_text(dir / "file", "x");
  EXPECT_THROW(check_output_path("", "--out"), UsageError);
  EXPECT_THROW(check_output_path(dir / "missing" / "m.h5", "--out"), UsageError);
  EXPECT_THROW(check_output_path(dir.path(), "--out"), UsageError);
  try {
    check_output_path(dir / "file" / "m.h5", "--out");
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "is not a directory")) << e.what();
  }
  EXPECT_NO_THROW(check_output_path(dir / "m.h5", "--out"));
}

}  // namespace
}  // namespace felis
