// The .akq model file: a versioned, little-endian, checksummed image of a ModelSpec
// (docs/file-format.md describes it byte by byte).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "akq/model.hpp"

namespace akq::io {

constexpr uint8_t kMagic[8] = {0x89, 'A', 'K', 'Q', '\r', '\n', 0x1A, '\n'};
// Version 2 adds the learning record of a model compiled for learning; a model without learning
// state is still written as version 1, and both versions are read.
constexpr uint32_t kFormatVersion = 2;
constexpr uint32_t kFirstFormatVersion = 1;
constexpr size_t kHeaderSize = 32;   // magic, version, flags, body size, layer count, reserved
constexpr size_t kTrailerSize = 4;   // CRC-32 of everything before it

// The file contents of a model. Throws akq::Error(InvalidArgument) if check_model rejects it, so
// nothing is ever written that the reader would refuse.
std::vector<uint8_t> serialize(const ModelSpec& model);

// The model stored in `size` bytes at `data`. Every length is checked against the bytes left before
// anything is allocated, and the result passes check_model; anything else (truncated, corrupted,
// unknown version, invalid model) throws akq::Error(ModelFile) saying what is wrong and where.
ModelSpec deserialize(const uint8_t* data, size_t size);

// serialize() into `path` atomically: a temporary file in the same directory is written, flushed
// to disk and renamed over `path`, so `path` holds the old or the new model, never a mix.
// Operating-system failures throw std::system_error (errno and the path in the message); an
// existing `path` that is not a regular file is never replaced (akq::Error of kind Path).
void save_model(const ModelSpec& model, const std::string& path);

// deserialize() the contents of `path`, read in bounded pieces: the header is checked (against the
// file size for a regular file) before the rest is read. std::system_error if it cannot be read.
ModelSpec load_model(const std::string& path);

}  // namespace akq::io
