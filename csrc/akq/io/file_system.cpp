#include "akq/io/file_system.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

#include "akq/error.hpp"

namespace akq::io {

namespace {

[[noreturn]] void fail(int error, const std::string& what) {
    throw std::system_error(error, std::generic_category(), what);
}

std::string directory_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Closes a descriptor and, unless released, removes the temporary file it was opened for.
class TempFile {
public:
    explicit TempFile(const std::string& target) {
        static std::atomic<unsigned> counter{0};
        for (int attempt = 0; attempt < 100; ++attempt) {
            path_ = target + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
            fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd_ >= 0 || errno != EEXIST) break;
        }
        if (fd_ < 0) fail(errno, "cannot create a temporary file next to '" + target + "'");
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    int fd() const { return fd_; }
    const std::string& path() const { return path_; }
    int close() {
        const int rc = ::close(fd_);
        fd_ = -1;
        return rc;
    }
    void keep() { path_.clear(); }

private:
    std::string path_;
    int fd_ = -1;
};

void write_all(int fd, const uint8_t* data, size_t size, const std::string& what) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(errno, what);
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
}

}  // namespace

void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
    const std::string what = "cannot write '" + path + "'";
    struct stat target;
    if (::stat(path.c_str(), &target) == 0 && !S_ISREG(target.st_mode)) {
        if (S_ISDIR(target.st_mode)) fail(EISDIR, what);
        throw Error(ErrorKind::Path, "'" + path + "' exists and is not a regular file (a FIFO, device or socket): "
                                     "akq replaces only regular files; save the model to a file path");
    }
    TempFile temp(path);
    write_all(temp.fd(), bytes.data(), bytes.size(), what);
    if (::fsync(temp.fd()) != 0) fail(errno, what);
    if (temp.close() != 0) fail(errno, what);
    if (::rename(temp.path().c_str(), path.c_str()) != 0) fail(errno, what);
    temp.keep();
    // Make the rename itself durable; some file systems cannot fsync a directory, which is harmless.
    const int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

InputFile::InputFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(errno, "cannot read '" + path + "'");
    struct stat info;
    if (::fstat(fd_, &info) != 0) {
        const int error = errno;
        ::close(fd_);
        fail(error, "cannot read '" + path + "'");
    }
    if (S_ISREG(info.st_mode)) regular_size_ = static_cast<int64_t>(info.st_size);
}

InputFile::~InputFile() { ::close(fd_); }

size_t InputFile::read(std::vector<uint8_t>& out, size_t count) {
    constexpr size_t kPiece = size_t{1} << 20;
    size_t done = 0;
    while (done < count) {
        const size_t piece = count - done < kPiece ? count - done : kPiece;
        const size_t start = out.size();
        out.resize(start + piece);
        ssize_t n;
        do n = ::read(fd_, out.data() + start, piece); while (n < 0 && errno == EINTR);
        if (n < 0) {
            const int error = errno;
            out.resize(start);
            fail(error, "cannot read '" + path_ + "'");
        }
        out.resize(start + static_cast<size_t>(n));
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    return done;
}

}  // namespace akq::io
