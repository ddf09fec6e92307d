// Error types shared by the whole engine.
//
// Bad input from a user or a file throws one of these, with a message that names the
// value, what was expected and what to do. Broken internal invariants are asserts.
#pragma once

#include <stdexcept>
#include <string>

namespace felis {

// A file, a data set or a value that cannot be used. The CLI exits with code 1.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// An invalid option or combination of options. The CLI exits with code 2.
class UsageError : public Error {
public:
  using Error::Error;
};

}  // namespace felis
