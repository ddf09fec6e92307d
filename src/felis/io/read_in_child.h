// Reading untrusted HDF5 files behind a process boundary.
//
// Debian's HDF5 1.10 library can crash on a corrupt or crafted file: fuzzing felis found a
// read through a wild pointer and an allocation of terabytes inside it (fuzz/regressions).
// felis cannot fix the library. So each loader of an HDF5 file first runs its whole read in
// a forked child process. It reads the file itself only once the child has finished, with
// the data or with felis's own error. A child killed by a signal, stopped by a sanitizer or
// still reading after child_seconds() becomes a felis::Error naming the file.
//
// This catches every crash and hang of the library on a file. A memory error that the
// child survives without a trace would happen again in felis's own process. What guards a
// file that the library misparses without crashing is felis's own check of every shape,
// type and size, not the child.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>

namespace felis {

// Seconds the child may take for a file of `bytes`: 5, plus one per 100 KB, because the
// library loops forever on some crafted files. A compressed file may inflate 1100-fold
// (the data loader's limit), and a valid 2.76 MB file holding 2.46 GB of pixels took 10 s.
inline unsigned child_seconds(uintmax_t bytes) {
  return 5 + static_cast<unsigned>(std::min<uintmax_t>(bytes / 100'000, 1'000'000));
}

// Runs `read` in a child process and waits for it. What `read` throws stays in the child,
// since the caller runs `read` again for the result. Throws felis::Error naming `path`
// when the child does not finish, and when the process cannot fork.
void read_in_child(const std::filesystem::path& path, const std::function<void()>& read);

}  // namespace felis
