// libFuzzer harness of the .akq reader (scripts/fuzz.sh builds and runs it).
// Property: any input either raises akq::Error(ModelFile) or is a valid model whose serialization is
// exactly the input bytes. Anything else (another exception, a crash, a sanitizer report, an
// allocation over -malloc_limit_mb, a timeout) is a finding.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "akq/error.hpp"
#include "akq/io/crc32.hpp"
#include "akq/io/model_file.hpp"

namespace {

void check(const uint8_t* data, size_t size) {
    akq::ModelSpec model;
    try {
        model = akq::io::deserialize(data, size);
    } catch (const akq::Error& e) {
        if (e.kind() != akq::ErrorKind::ModelFile) std::abort();
        return;
    }
    const std::vector<uint8_t> again = akq::io::serialize(model);
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    check(data, size);
    // Most mutations only break the checksum; a copy with the CRC-32 recomputed reaches the parser.
    if (size >= akq::io::kHeaderSize + akq::io::kTrailerSize) {
        std::vector<uint8_t> fixed(data, data + size);
        const uint32_t crc = akq::io::crc32(fixed.data(), size - 4);
        for (int i = 0; i < 4; ++i) fixed[size - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
        check(fixed.data(), size);
    }
    return 0;
}
