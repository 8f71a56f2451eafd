// Bounded reads and crash-safe writes (POSIX). Operating-system failures throw std::system_error
// naming the path.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace akq::io {

// Write `bytes` to a new temporary file next to `path`, fsync it, rename it over `path`, then fsync
// the directory. On failure the temporary file is removed and `path` is left as it was. An existing
// `path` (or the target of a symlink) that is not a regular file (FIFO, device, socket) is never
// replaced: akq::Error(Path); a directory gives EISDIR.
void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes);

// A file opened for reading in pieces, so a caller can check a header before reading more.
class InputFile {
public:
    explicit InputFile(const std::string& path);
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;
    ~InputFile();
    // The size of a regular file; -1 for a pipe, device or anything else without a known size.
    int64_t regular_size() const { return regular_size_; }
    // Append up to `count` bytes to `out` (fewer at the end of the file), growing it at most 1 MiB
    // at a time: a source that never ends or lies about its size costs only what it delivers.
    size_t read(std::vector<uint8_t>& out, size_t count);

private:
    std::string path_;
    int fd_ = -1;
    int64_t regular_size_ = -1;
};

}  // namespace akq::io
