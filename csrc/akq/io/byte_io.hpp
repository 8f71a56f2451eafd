// Little-endian fixed-width encoding for the .akq format, independent of the host's byte order.
// ByteReader checks every read against the bytes left and throws akq::Error(ModelFile) instead of
// reading past the end; counts are checked before anything is allocated from them.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "akq/error.hpp"

namespace akq::io {

class ByteWriter {
public:
    void u8(uint8_t v) { bytes_.push_back(v); }
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    void u64(uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
    void f32(float v) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        u32(bits);
    }
    void f64(double v) {
        uint64_t bits;
        std::memcpy(&bits, &v, 8);
        u64(bits);
    }
    void raw(const void* data, size_t size) {
        const auto* p = static_cast<const uint8_t*>(data);
        bytes_.insert(bytes_.end(), p, p + size);
    }
    size_t size() const { return bytes_.size(); }
    std::vector<uint8_t>& bytes() { return bytes_; }
    // Overwrite 8 bytes at `offset` (used to fill in a size once it is known).
    void patch_u64(size_t offset, uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes_[offset + i] = static_cast<uint8_t>(v >> (8 * i));
    }

private:
    std::vector<uint8_t> bytes_;
};

class ByteReader {
public:
    ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    size_t remaining() const { return size_ - pos_; }
    size_t position() const { return pos_; }

    // Throws unless `count` items of `item_size` bytes are left (overflow-safe).
    void require(uint64_t count, size_t item_size, const char* what) const {
        if (item_size != 0 && count > remaining() / item_size)
            throw Error(ErrorKind::ModelFile, "the .akq data is truncated or corrupted: " + std::string(what) +
                                                  " needs " + std::to_string(count) + " x " +
                                                  std::to_string(item_size) + " bytes at offset " +
                                                  std::to_string(pos_) + " but only " +
                                                  std::to_string(remaining()) + " remain");
    }
    uint8_t u8(const char* what) {
        require(1, 1, what);
        return data_[pos_++];
    }
    uint32_t u32(const char* what) {
        require(1, 4, what);
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(data_[pos_ + i]) << (8 * i);
        pos_ += 4;
        return v;
    }
    uint64_t u64(const char* what) {
        require(1, 8, what);
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
        pos_ += 8;
        return v;
    }
    int32_t i32(const char* what) { return static_cast<int32_t>(u32(what)); }
    float f32(const char* what) {
        const uint32_t bits = u32(what);
        float v;
        std::memcpy(&v, &bits, 4);
        return v;
    }
    double f64(const char* what) {
        const uint64_t bits = u64(what);
        double v;
        std::memcpy(&v, &bits, 8);
        return v;
    }
    void raw(void* out, size_t size, const char* what) {
        require(size, 1, what);
        if (size) std::memcpy(out, data_ + pos_, size);
        pos_ += size;
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

}  // namespace akq::io
