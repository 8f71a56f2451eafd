// Whole-file reads and crash-safe writes (POSIX). Failures throw std::system_error naming the path.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace akq::io {

// Write `bytes` to a new temporary file next to `path`, fsync it, rename it over `path`, then fsync
// the directory. On failure the temporary file is removed and `path` is left as it was.
void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes);

std::vector<uint8_t> read_file(const std::string& path);

}  // namespace akq::io
