// The AKD1000 (Akida 1.0 NSoC) as plain data: its neural processors and every hardware number the
// mapper, the limit checks and the performance model use. This is the one place for these numbers;
// each cites where it comes from:
//   [docs/spec D.x]  docs/spec/D-device.md (behaviour of the reference mapper, measured; D.7: published
//                    chip figures); [docs/spec G] its single-layer sweeps, docs/spec/E-verification.md
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace akq::device {

enum class NpType : uint8_t { HRC = 0, CNP1 = 1, CNP2 = 2, FNP2 = 3, FNP3 = 4 };
const char* np_type_name(NpType t);

struct NpIdent {
    int32_t col = 0, row = 0, id = 0;
};

struct NeuralProcessor {
    NpIdent ident;
    std::vector<NpType> types;  // the roles this NP can take (e.g. CNP1 or FNP3)
    bool can(NpType t) const;
};

struct Device {
    std::string name;
    std::string version;
    NpIdent hrc;                       // the input-conversion block (runs InputConvolutional)
    std::vector<NeuralProcessor> nps;  // the mesh, in the order the mapper allocates them
};

// The virtual AKD1000 of the reference: 78 NPs plus the HRC [docs/spec D.1].
Device akd1000_device();

namespace akd1000 {

// ---- Mesh [docs/spec D.1; docs/spec D.7.1: 20 nodes of 4 NPs, 4x5 mesh] -----------------------------
// Nodes (col 1..4, row 1..5). Per node: NP 0 can be CNP1 or FNP3, NPs 1-3 CNP1 or CNP2; node (4,1) has 4
// FNP2-capable NPs; node (3,1) exposes only NPs 2 and 3, CNP1 only (54 + 18 + 4 + 2 = 78 [docs/spec D.1]).
// The HRC is (0,0,0) as the reference reports it [golden hw_map].
constexpr int32_t kMeshCols = 4;
constexpr int32_t kMeshRows = 5;
constexpr int32_t kNpsPerNode = 4;
constexpr int32_t kFnp2NodeCol = 4, kFnp2NodeRow = 1;
constexpr int32_t kPartialNodeCol = 3, kPartialNodeRow = 1;
constexpr int32_t kNpCount = 78;

// ---- InputConvolutional on the HRC [docs/spec D.3] -------------------------------------------------------
constexpr int32_t kHrcMinDim0 = 5;
constexpr int32_t kHrcMinDim1 = 5;
constexpr int32_t kHrcMaxDim1 = 256;
// Filters for 3x3, 5x5, 7x7 kernels [measured against akida 2.4.0, tests/test_device_differential.py]
constexpr int32_t kHrcMaxFiltersRgb[3] = {192, 64, 32};    // C = 3
constexpr int32_t kHrcMaxFiltersGray[3] = {512, 192, 96};  // C = 1
constexpr int32_t kHrcMaxStride = 3;
constexpr int32_t kHrcMaxPool = 2;

// ---- CNP structure [docs/spec D.3] ------------------------------------------------------------------------
constexpr int32_t kCnpMaxChannels = 2048;
constexpr int32_t kCnpMaxFilters = 2048;
constexpr int32_t kCnpMaxDim = 4096;
constexpr int32_t kCnpMaxPool = 2;
constexpr int32_t kCnpMaxStride = 2;
constexpr int32_t kCnpStride2Kernel = 3;    // stride 2 only with 3x3 kernels: every 5x5/7x7 stride-2
                                            // layer of the golden cases falls back to software [golden hw_map]
constexpr int32_t kGapMaxInputDim0 = 32;    // "With average pooling, input width cannot exceed 32"
constexpr int32_t kGapMinConvDim1 = 3;      // "... must have at least 3 rows"
constexpr int32_t kOneChannelGroup = 8;     // C=1: "neurons per NP / 8 must be even" [docs/spec D.3; G C1 cells]

// ---- CNP capacity [docs/spec D.5; rule in capacity.cpp] -------------------------------------------------
// Input row buffer: a strip of w rows (axis 0) of the input, D1 * ceil32(w * C * input bits) <= kRowBufferBits,
// w a whole number of bytes per value (a multiple of 8 / input bits), each strip at most kMaxStripWidth
// rows [measured against akida 2.4.0 over kernels 1-7 and 1/2/4-bit inputs].
constexpr int32_t kMaxStripWidth = 32;
constexpr int32_t kMaxStripColumns = 256;  // along axis 1; wider inputs are cut into equal parts first
constexpr int64_t kRowBufferBits = 344064;
constexpr int64_t kRowBufferWordBits = 32;  // a column's line: its rows' values, padded to whole words
// Filter memory of a Convolutional CNP: a row of kChannelSlots channel slots (half as many for 4-bit
// weights) holds floor(slots / C) filters' channels, and an NP holds kFilterGroup * floor(a * that)
// filters, a = kConvFilterGroupsPerSlot[k][wb] (numerator, denominator), at most kMaxFiltersPerNp
// (kMaxFiltersPerNp7x7x4 for 7x7 kernels of 4-bit weights); none fits: "Filter size is too big"
// [measured against akida 2.4.0 for every C in 1-2048, exact].
constexpr int32_t kFilterGroup = 8;
constexpr int32_t kMaxFiltersPerNp = 504;       // 2048 filters -> 5 NPs of 410, 1008 -> 2 of 504
constexpr int32_t kMaxFiltersPerNp7x7x4 = 384;
constexpr int64_t kChannelSlots = 896;
struct Ratio {
    int64_t num, den;
};
// [kernel 1, 3, 5, 7][weight bits 1, 2, 4]
constexpr Ratio kConvFilterGroupsPerSlot[4][3] = {
    {{24, 1}, {24, 1}, {24, 1}},
    {{5, 1}, {5, 2}, {8, 3}},
    {{2, 1}, {1, 1}, {1, 1}},
    {{1, 1}, {1, 2}, {8, 21}},
};
// Filter memory of a Separable CNP: kNpMemoryWords words of kMemoryWordBits bits. The depthwise kernels take
// x words per channel, the total rounded up to 8 words (x = kSeparableDepthwiseWords[k][wb]); the pointwise
// filters take columns of C words, each holding kMemoryWordBits / wb filters, filled 8 filters at a time, a
// last partial group of 8 taking a column of its own; at most kMaxFiltersPerNp filters
// [measured against akida 2.4.0 for every C in 1-2048, exact].
constexpr int64_t kNpMemoryWords = 7168;
constexpr int64_t kMemoryWordBits = 48;
// [kernel 3, 5, 7][weight bits 2, 4]
constexpr Ratio kSeparableDepthwiseWords[3][2] = {{{1, 2}, {1, 1}}, {{1, 1}, {3, 1}}, {{3, 1}, {7, 1}}};

// ---- FNP [docs/spec D.3, D.5] -----------------------------------------------------------------------------
constexpr int64_t kFnpMaxInputs = 57334;
constexpr int32_t kFnpMaxWeightBits = 4;
// FNP3 weight memory in words; per neuron 4 words + per 32 inputs 1, 2 or 6 words for 1-, 2-, 4-bit weights
// (3-bit weights never go to an FNP3) [measured against akida 2.4.0, rule in mapper.cpp fits_fnp3]
constexpr int64_t kFnp3MemoryWords = 10752;
constexpr int64_t kFnp3NeuronWords = 4;
constexpr int64_t kFnp3WordsPer32Inputs[3] = {1, 2, 6};

// ---- Programming ranges [docs/spec D.4]; which layer programs what: ranges.hpp ----------------------------
constexpr int32_t kNpThresholdBits = 20;    // signed, CNP/FNP with activation
constexpr int32_t kNpStepBits = 20;         // unsigned, floor(16 * act_step)
constexpr int32_t kHrcThresholdBits = 24;   // signed, InputConvolutional
constexpr int32_t kHrcStepBits = 24;        // unsigned
constexpr int32_t kStepFractionBits = 4;    // act_step is stored as floor(16 * act_step) [docs/spec C.6, F.4.1]

}  // namespace akd1000
}  // namespace akq::device
