// OpenBLAS worker threads that felis never uses.
//
// OpenCV's core library links LAPACK, so where Debian's BLAS is OpenBLAS (the
// libopenblas0-pthread package) every felis process loads it. OpenBLAS then starts a
// worker for each core but the first, and they poll for work before they sleep: the
// course's logistic regression took 69 ms of CPU instead of 41. felis calls no BLAS
// routine, so those threads only take CPU time from felis's own.
#pragma once

namespace felis {

// Stops OpenBLAS's worker threads when OpenBLAS is loaded in this process, and returns
// true if it did. OpenBLAS starts them again on its next threaded call, so this is safe
// whatever runs later. Returns false, doing nothing, under any other BLAS.
bool stop_blas_threads();

}  // namespace felis
