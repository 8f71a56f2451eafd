// The CNP capacity rule, measured against the reference mapper on single layers (docs/spec D.5.1):
//  1. Row buffer: the input is cut along axis 1 into parts of at most 256 positions (plus halos), then
//     along axis 0 into n strips of equal width s = ceil(D0 / n) <= 32. The buffer holds, for each axis-1
//     position, a line of 32-bit words with W axis-0 positions of C values: D1 * ceil32(W * C * input bits)
//     <= kRowBufferBits, W a whole number of bytes per value. One strip needs s <= W, two strips
//     s <= W - h, more s <= W - 2h, with h = (k - 1) / 2 halo positions on each inner side of a strip.
//  2. Filter memory: a Convolutional NP holds 8 * floor(a * floor(slots / C)) filters; a Separable NP
//     holds its depthwise kernels and pointwise filter columns in words (the constants in akd1000.hpp).
//  3. NPs = strips * the fewest NPs n for which ceil(F / n) filters fit one NP, filters balanced evenly.
#include "akq/device/capacity.hpp"

#include <algorithm>

#include "akq/device/akd1000.hpp"

namespace akq::device {

namespace {

using namespace akd1000;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

const char* kTooBig = "Filter size is too big to fit in a CNP: try decreasing the input channels or the bitwidth";

int64_t convolution_filters_per_np(int64_t k, int64_t c, int64_t wb) {
    const int ki = static_cast<int>(k / 2), wi = wb == 1 ? 0 : wb == 2 ? 1 : 2;
    const Ratio a = kConvFilterGroupsPerSlot[ki][wi];
    const int64_t slots = (wb == 4 ? kChannelSlots / 2 : kChannelSlots) / c;
    const int64_t cap = k == 7 && wb == 4 ? kMaxFiltersPerNp7x7x4 : kMaxFiltersPerNp;
    return std::min(cap, kFilterGroup * (a.num * slots / a.den));
}

// Whether `f` filters of a separable layer fit one NP (not monotone in f: a partial group of 8 filters
// takes a whole column).
bool separable_fits(int64_t k, int64_t c, int64_t wb, int64_t f) {
    const Ratio x = kSeparableDepthwiseWords[k / 2 - 1][wb == 4 ? 1 : 0];
    const int64_t depthwise = 8 * ceil_div(ceil_div(x.num * c, x.den), 8);
    const int64_t per_column = kMemoryWordBits / wb;
    const int64_t columns = ceil_div(kFilterGroup * (f / kFilterGroup), per_column) + (f % kFilterGroup != 0);
    return f <= kMaxFiltersPerNp && c * columns + depthwise <= kNpMemoryWords;
}

// Whether `f` filters of the layer fit one NP (never for weights or kernels no CNP has, docs/spec D.3).
bool fits_one_np(const LayerSpec& l, int64_t f) {
    const int64_t k = l.kernel_size[0], c = l.input_dims[2], wb = l.weights_bits;
    const bool separable = l.type == LayerType::SeparableConvolutional;
    if (!cnp_takes_weights_bits(l) || k > 7 || (separable && k < 3)) return false;
    return separable ? separable_fits(k, c, wb, f) : f <= convolution_filters_per_np(k, c, wb);
}

// The most filters one NP holds (0: not even one).
int32_t max_filters_per_np(const LayerSpec& l) {
    for (int32_t f = kMaxFiltersPerNp; f > 0; --f)
        if (fits_one_np(l, f)) return f;
    return 0;
}

// The fewest NPs (at least `at_least`) over which the filters, balanced, fit: the reference checks the
// largest share, ceil(F / n), only (a smaller last share may not fit alone, docs/spec D.5.1).
int32_t filter_split(const LayerSpec& l, int32_t at_least) {
    int32_t n = std::min(l.filters, at_least);
    while (!fits_one_np(l, ceil_div(l.filters, n))) ++n;
    return n;
}

// The fewest parts of `extent` columns, of equal width ceil(extent / n) at most `widest`, each fitting
// `room` columns with its halos (one inner side for two parts, two for more); 0 if none fits.
int64_t equal_parts(int64_t extent, int64_t widest, int64_t room, int64_t halo) {
    for (int64_t n = 1; n <= extent; ++n) {
        const int64_t limit = n == 1 ? room : n == 2 ? room - halo : room - 2 * halo;
        if (n >= 3 && limit <= 0) return 0;
        if (ceil_div(extent, n) <= std::min(widest, limit)) return n;
    }
    return 0;
}

struct Strips {
    int32_t count = 0, width = 0;  // count 0: no split fits; width: columns of axis 0 per strip
};

// The strips the input is cut into: parts of at most kMaxStripColumns along axis 1, then along axis 0
// the fewest parts whose width the row buffer holds beside those columns.
Strips strips(const LayerSpec& l, int32_t input_bits) {
    const int64_t d0 = l.input_dims[0], d1 = l.input_dims[1], halo = (l.kernel_size[0] - 1) / 2;
    const int64_t column_parts = ceil_div(d1, kMaxStripColumns);
    const int64_t columns =
        column_parts == 1 ? d1 : ceil_div(d1, column_parts) + (column_parts == 2 ? halo : 2 * halo);
    const int64_t line_bits = kRowBufferBits / columns / kRowBufferWordBits * kRowBufferWordBits;
    int64_t room = line_bits / (l.input_dims[2] * input_bits);
    room -= room % std::max(1, 8 / input_bits);
    const int64_t rows = equal_parts(d0, kMaxStripWidth, room, halo);
    if (rows == 0) return {};
    return {static_cast<int32_t>(column_parts * rows), static_cast<int32_t>(ceil_div(d0, rows))};
}

}  // namespace

std::vector<int32_t> balance_filters(int32_t filters, int32_t groups) {
    std::vector<int32_t> out(static_cast<size_t>(groups));
    const int32_t each = (filters + groups - 1) / groups;
    if (each * (groups - 1) < filters) {
        std::fill(out.begin(), out.end() - 1, each);
        out.back() = filters - each * (groups - 1);
    } else {  // ceil would leave the last NP empty: spread the remainder one by one
        for (int32_t i = 0; i < groups; ++i) out[static_cast<size_t>(i)] = filters / groups + (i < filters % groups);
    }
    return out;
}

bool cnp_takes_weights_bits(const LayerSpec& l) {
    const int32_t wb = l.weights_bits;
    return wb == 2 || wb == 4 || (wb == 1 && l.type != LayerType::SeparableConvolutional);
}

int32_t input_bits_after(const LayerSpec* previous) {
    if (previous == nullptr) return 8;
    return previous->type == LayerType::InputData ? previous->input_bits : previous->act_bits;
}

CnpSplit split_cnp_layer(const LayerSpec& l, int32_t filter_groups, int32_t input_bits) {
    CnpSplit s;
    const Strips cut = strips(l, input_bits);
    s.strips = cut.count;
    s.strip_width = cut.width;
    s.max_filters_per_np = max_filters_per_np(l);
    if (s.max_filters_per_np == 0) {
        s.problem = kTooBig;
        return s;
    }
    if (s.strips == 0) {
        s.problem = "not enough NPs available: an input row of " + std::to_string(l.input_dims[1]) + " x " +
                    std::to_string(l.input_dims[2]) + " values does not fit the row buffer of a CNP; "
                    "reduce the input width (axis 1) or the channels";
        return s;
    }
    const std::vector<int32_t> strip = balance_filters(l.filters, filter_split(l, std::max(1, filter_groups)));
    for (int32_t i = 0; i < s.strips; ++i) s.filters.insert(s.filters.end(), strip.begin(), strip.end());
    return s;
}

}  // namespace akq::device
