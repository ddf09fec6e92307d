// Atomic output files: a failed write leaves the target as it was and no temporary file.
#include "felis/io/atomic_file.h"

#include "data/fixtures.h"

#include <gtest/gtest.h>

#include <unistd.h>

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

TEST(AtomicFile, FullDiskKeepsOldContent) {
  fixtures::TempDir dir;
  fixtures::write_text(dir / "model.h5", "old model");
  // The temporary file is a link to /dev/full, where every write fails with ENOSPC.
  const auto temporary = dir / ("model.h5.tmp-" + std::to_string(getpid()));
  std::filesystem::create_symlink("/dev/full", temporary);
  std::string message;
  {
    AtomicFile file(dir / "model.h5");
    message = fixtures::error_message([&] { file.write(std::vector<char>(100, 'x')); });
  }
  EXPECT_TRUE(contains(message, "cannot write " + (dir / "model.h5").string())) << message;
  EXPECT_TRUE(contains(message, "No space left on device")) << message;
  const auto bytes = fixtures::read_bytes(dir / "model.h5");
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "old model");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(temporary)));
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
