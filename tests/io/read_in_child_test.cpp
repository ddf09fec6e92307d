// Reading untrusted HDF5 files in a child process first: a crash there becomes an error
// naming the file, and the files that crashed Debian's HDF5 library under the fuzzer get
// one-line errors from the felis program.
#include "felis/error.h"
#include "felis/io/read_in_child.h"

#include "support/cli.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>

namespace felis {
namespace {

namespace fs = std::filesystem;
using fixtures::contains;

const fs::path kRegressions = fs::path(FELIS_SOURCE_DIR) / "fuzz" / "regressions";

TEST(ReadInChild, CrashBecomesAnErrorNamingTheFile) {
  const std::string message =
      fixtures::error_message([] { read_in_child("crafted.h5", [] { std::raise(SIGSEGV); }); });
  EXPECT_TRUE(contains(message, "crafted.h5: the HDF5 library crashed with signal 11")) << message;
  EXPECT_TRUE(contains(message, "do not use it")) << message;
}

TEST(ReadInChild, AbortBecomesAnError) {
  const std::string message =
      fixtures::error_message([] { read_in_child("crafted.h5", [] { std::abort(); }); });
  EXPECT_TRUE(contains(message, "crashed with signal 6")) << message;
}

TEST(ReadInChild, ErrorsAndResultsStayInTheChild) {
  int value = 1;
  EXPECT_NO_THROW(read_in_child("ok.h5", [&] {
    value = 2;
    throw Error("the caller gets this from its own read");
  }));
  EXPECT_EQ(value, 1);
}

TEST(ReadInChild, ChildTimeGrowsWithTheFile) {
  EXPECT_EQ(child_seconds(0), 5u);
  EXPECT_EQ(child_seconds(2'760'000), 32u);
  EXPECT_EQ(child_seconds(uintmax_t{16} << 30), 5u + 171798u);
}

// The fuzzer's crashing inputs through the felis program: one line naming the file, exit
// 1, no output file. The data file makes the library read through a wild pointer in any
// build. The model file makes it ask for 3 TiB, which AddressSanitizer stops in the child
// and a plain build's malloc refuses, so its message depends on the build.
TEST(ReadInChild, CrashingFilesGetOneLineErrors) {
  const fs::path data = kRegressions / "hdf5_data" / "compact-dataset-read-through-wild-pointer.h5";
  const fs::path model = kRegressions / "model_file" / "metadata-cache-allocates-3-tib.h5";
  if (!fs::exists(data) || !fs::exists(model)) GTEST_SKIP() << "missing " << kRegressions;
  fixtures::TempDir dir;
  const auto out = (dir / "model.h5").string();
  struct Case {
    std::string arguments;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"train --data " + data.string() + " --iterations 1 --out " + out,
       data.string() + ": the HDF5 library crashed with signal 11"},
      {"info " + data.string(), data.string() + ": the HDF5 library crashed with signal 11"},
      {"predict --model " + model.string() + " " + data.string(), model.string()},
  };
  for (const Case& c : cases) {
    const auto r = fixtures::run_felis(dir, c.arguments);
    EXPECT_EQ(r.exit_code, 1) << c.arguments << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.message)) << c.arguments << "\n" << r.err;
    EXPECT_EQ(fixtures::line_count(r.err), 1u) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
}

}  // namespace
}  // namespace felis
