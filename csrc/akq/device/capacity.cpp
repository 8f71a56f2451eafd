// The CNP capacity rule, derived from the reference's single-layer sweeps (docs/spec G):
//  1. Row buffer: the input is cut along axis 0 into strips of w columns (w even, at most 32) such that
//     (w + k) * D1 * C input activations fit the row buffer of a k x k kernel (counted in 4-bit values, the
//     sweeps' activations: a 1-bit input holds 4 times as many); strips = ceil(D0 / w).
//  2. Filter memory: each NP holds groups of 8 filters; a conv filter costs k*k*C*wb bits (7x7 4-bit
//     kernels 3/2 of that, 1x1 1-bit kernels as 2-bit), from a per-kernel-size memory less a
//     per-channel share; at most 480 filters and 73728 k*k*wb filter bits per NP. A separable layer
//     holds its depthwise kernels (k*k*C*wb bits) and pointwise filters (C*wb bits each) in one memory.
//  3. NPs = strips * ceil(F / filters per NP); filters balanced evenly over each strip's NPs.
// The constants live in akd1000.hpp. tests/test_device_sweeps.py reports how many sweep cells match.
#include "akq/device/capacity.hpp"

#include <algorithm>

#include "akq/device/akd1000.hpp"

namespace akq::device {

namespace {

using namespace akd1000;

struct KernelConstants {
    int64_t row_buffer, filter_memory, channel_share;
    int32_t channel_free;
};

KernelConstants kernel_constants(int32_t k) {
    switch (k) {
        case 1: return {kRowBuffer1, kFilterMemory1, kChannelShare1, kChannelFree1};
        case 3: return {kRowBuffer3, kFilterMemory3, kChannelShare3, kChannelFree3};
        case 5: return {kRowBuffer5, kFilterMemory5, kChannelShare5, kChannelFree5};
        default: return {kRowBuffer7, kFilterMemory7, kChannelShare7, kChannelFree7};
    }
}

const char* kTooBig = "Filter size is too big to fit in a CNP: try decreasing the input channels or the bitwidth";

// Filters one NP can hold, or 0 if not even one filter group fits.
int64_t filters_per_np(const LayerSpec& l, const KernelConstants& kc) {
    const int64_t k = l.kernel_size[0], c = l.input_dims[2], wb = l.weights_bits;
    const bool wide = k == 7 && wb == 4;
    int64_t available = 0, filter_bits = 0;
    if (l.type == LayerType::SeparableConvolutional) {
        int64_t depthwise = k * k * c * wb;
        if (wide) depthwise = depthwise * kSeparableWide7x7Num / kSeparableWide7x7Den;
        available = kSeparableMemory - kSeparableChannelShare * c - depthwise;
        filter_bits = c * wb;
    } else {
        available = kc.filter_memory - kc.channel_share * std::max<int64_t>(0, c - kc.channel_free);
        filter_bits = k * k * c * (k == 1 ? std::max<int64_t>(wb, 2) : wb);
        if (wide) filter_bits = filter_bits * kWide7x7Num / kWide7x7Den;
    }
    if (available <= 0) return 0;
    int64_t filters = kFilterGroup * (available / (kFilterGroup * filter_bits));
    filters = std::min<int64_t>(filters, kMaxFiltersPerNp);
    if (l.type != LayerType::SeparableConvolutional) filters = std::min(filters, kMaxKernelWeightsPerNp / (k * k * wb));
    return filters;
}

bool filter_too_big(const LayerSpec& l) {
    const int64_t k = l.kernel_size[0], c = l.input_dims[2], wb = l.weights_bits;
    if (l.type == LayerType::SeparableConvolutional) {
        int64_t depthwise = k * k * c * wb;
        if (k == 7 && wb == 4) depthwise = depthwise * kSeparableWide7x7Num / kSeparableWide7x7Den;
        return depthwise > kSeparableMaxDepthwise;
    }
    return c > kConvMaxChannelsTb || c * wb * (k == 7 ? 2 : 1) >= kConvMaxChannelBits;
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

int32_t input_bits_after(const LayerSpec* previous) {
    if (previous == nullptr) return 8;
    return previous->type == LayerType::InputData ? previous->input_bits : previous->act_bits;
}

CnpSplit split_cnp_layer(const LayerSpec& l, int32_t filter_groups, int32_t input_bits) {
    CnpSplit s;
    if (filter_too_big(l)) {
        s.problem = kTooBig;
        return s;
    }
    const KernelConstants kc = kernel_constants(l.kernel_size[0]);
    const int64_t row_bits = static_cast<int64_t>(l.input_dims[1]) * l.input_dims[2] * input_bits;
    int64_t width =
        std::min<int64_t>(kMaxStripWidth, kc.row_buffer * kRowBufferValueBits / row_bits - l.kernel_size[0]);
    width -= width % 2;
    if (width < 1) {
        s.problem = "not enough NPs available: an input row of " + std::to_string(l.input_dims[1]) + " x " +
                    std::to_string(l.input_dims[2]) + " values does not fit the row buffer of a CNP; "
                    "reduce the input width (axis 1) or the channels";
        return s;
    }
    s.strips = static_cast<int32_t>((l.input_dims[0] + width - 1) / width);
    s.strip_width = static_cast<int32_t>(width);
    const int64_t per_np = filters_per_np(l, kc);
    if (per_np < 1) {
        s.problem = kTooBig;
        return s;
    }
    s.max_filters_per_np = static_cast<int32_t>(per_np);
    const int32_t needed = static_cast<int32_t>((l.filters + per_np - 1) / per_np);
    const int32_t groups = std::min(l.filters, std::max(needed, filter_groups));
    const std::vector<int32_t> strip = balance_filters(l.filters, groups);
    for (int32_t i = 0; i < s.strips; ++i) s.filters.insert(s.filters.end(), strip.begin(), strip.end());
    return s;
}

}  // namespace akq::device
