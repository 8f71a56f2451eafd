// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): the .akq checksum. Same values as zlib.crc32.
#pragma once
#include <cstddef>
#include <cstdint>

namespace akq::io {

uint32_t crc32(const uint8_t* data, size_t size);

}  // namespace akq::io
