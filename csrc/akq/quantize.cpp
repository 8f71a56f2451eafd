// Weight quantization (docs/spec A.1): argument checks, Max scale factors and the int8 kernel on top of
// the streaming loops of quantize_loops.cpp. Built with -ffp-contract=off (CMakeLists.txt).
//
// Agreement with the reference (TensorFlow float32 ops): the max ranges, products, divisions and clips
// are the same float32 operations, bit-identical. Ranges are clamped to [1e-10, FLT_MAX] for both
// quantizers (the reference clamps only MaxPerAxis): kmax / r >= 1e10 for r <= 1e-10 clips to 1000
// either way, and the upper clamp only acts where the reference's range overflowed to infinity and its
// sf became 0.
//
// No Std kernel: a double-accumulated std differs from TensorFlow's float32 reduce_std by a few ulp
// (more per axis, growing with the channel length), which can move a weight to the next integer, so
// the Std quantizers' scale factors are computed by TensorFlow (converter/quantize.py).
#include "akq/quantize.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <sstream>
#include <string>

#include "akq/error.hpp"
#include "akq/quantize_loops.hpp"

namespace akq {
namespace {

using quantize_loops::fastest_loops;

[[noreturn]] void fail(const std::string& message) { throw Error(ErrorKind::Quantization, message); }

const char* const kNonFinite =
    "the kernel contains NaN or infinity; only finite weights can be quantized (check the training "
    "for divergence or the weights you loaded)";

std::string show(float value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

// The loops walk rows of at least this many values (8 KiB), so that short channel axes still
// vectorise and the four rows reduced together stream from separate pages (measured: 256-value rows
// ran about 1.7x slower).
constexpr std::size_t kMinLoopWidth = 2048;

// Row width for per-column data repeating every `period` values: a multiple of period >= 2048.
std::size_t loop_width(std::size_t period) { return period * ((kMinLoopWidth + period - 1) / period); }

void check_kernel(KernelView w) {
    if (w.size == 0) return;
    if (!w.data) fail("the kernel has no data");
    if (w.channels == 0 || w.size % w.channels != 0)
        fail("the kernel has " + std::to_string(w.size) + " values, not a whole number of rows of " +
             std::to_string(w.channels) + " channels");
}

// Per group (the channels, or one group for the whole kernel): max |w|.
std::vector<float> max_ranges(KernelView w, std::size_t groups) {
    const std::size_t width = loop_width(groups);
    std::vector<float> column_max(width, 0.0f);
    fastest_loops().column_abs_max(w.data, w.size, width, column_max.data());
    std::vector<float> range(groups, 0.0f);
    for (std::size_t j = 0; j < width; ++j) range[j % groups] = std::max(range[j % groups], column_max[j]);
    for (float r : range)
        if (!(r <= FLT_MAX)) fail(kNonFinite);
    return range;
}

// The per-column scale factors of one loop row: sf repeated over a row of loop_width values.
std::vector<float> scale_row(KernelView w, ScaleView sf) {
    if (!sf.data || (sf.size != 1 && sf.size != w.channels))
        fail("the scale factor has " + std::to_string(sf.size) + " values; give one value, or one per " +
             "output channel (" + std::to_string(w.channels) + ", the kernel's last axis)");
    for (std::size_t i = 0; i < sf.size; ++i)
        if (!(sf.data[i] > 0.0f && sf.data[i] <= FLT_MAX))
            fail("scale factor " + std::to_string(i) + " is " + show(sf.data[i]) +
                 "; scale factors must be positive and finite");
    std::vector<float> row(loop_width(sf.size));
    for (std::size_t j = 0; j < row.size(); ++j) row[j] = sf.data[j % sf.size];
    return row;
}

}  // namespace

int32_t weight_kmax(int bitwidth) {
    if (bitwidth < kMinWeightBits || bitwidth > kMaxWeightBits)
        fail("the weight bitwidth is " + std::to_string(bitwidth) + "; it must be between " +
             std::to_string(kMinWeightBits) + " and " + std::to_string(kMaxWeightBits) +
             " (int8 weights; Akida takes 2, 4 or 8)");
    return (int32_t{1} << (bitwidth - 1)) - 1;
}

std::vector<float> max_scale_factors(KernelView w, bool per_axis, int bitwidth) {
    const float kmax = static_cast<float>(weight_kmax(bitwidth));
    check_kernel(w);
    if (w.size == 0) fail("the kernel is empty; a scale factor needs at least one weight");
    std::vector<float> sf = max_ranges(w, per_axis ? w.channels : 1);
    for (float& s : sf) {
        const float range = std::min(std::max(s, kRangeMin), FLT_MAX);
        s = std::min(std::max(kmax / range, 0.0f), kScaleFactorMax);
    }
    return sf;
}

void quantize_int8(KernelView w, ScaleView sf, int bitwidth, int8_t* out) {
    const float kmax = static_cast<float>(weight_kmax(bitwidth));
    check_kernel(w);
    const std::vector<float> row = scale_row(w, sf);
    if (!fastest_loops().to_int8(w.data, w.size, row.data(), row.size(), kmax, out)) fail(kNonFinite);
}

}  // namespace akq
