#include "akq/device/constraints.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "akq/device/akd1000.hpp"
#include "akq/device/capacity.hpp"
#include "akq/device/ranges.hpp"

namespace akq::device {

namespace {

using namespace akd1000;
using std::to_string;

std::string pair_text(const std::array<int32_t, 2>& p) { return to_string(p[0]) + "x" + to_string(p[1]); }

bool max_pooled(const LayerSpec& l) { return l.pool_type == PoolType::Max; }  // a 1x1 max pool counts too

int32_t hrc_max_filters(int32_t channels, int32_t k) {
    const int32_t i = k == 3 ? 0 : k == 5 ? 1 : 2;
    return channels == 1 ? kHrcMaxFiltersGray[i] : kHrcMaxFiltersRgb[i];
}

class Collector {
public:
    explicit Collector(const LayerSpec& l) : layer_(l.name) {}
    void add(ProblemKind kind, std::string reason, std::string hint) {
        problems_.push_back(Problem{layer_, kind, std::move(reason), std::move(hint)});
    }
    void map(std::string reason, std::string hint) { add(ProblemKind::Mapping, std::move(reason), std::move(hint)); }
    std::vector<Problem> take() { return std::move(problems_); }
    bool empty() const { return problems_.empty(); }

private:
    std::string layer_;
    std::vector<Problem> problems_;
};

const char* kRequantize = "re-quantize this layer with fewer weight bits (akq.quantize_layer) and retrain";
const char* kSamePadding = "use padding='same' in the Keras layer (add explicit zero padding before it if needed)";

void check_input_convolutional(const LayerSpec& l, Collector& c) {
    const int32_t channels = l.input_dims[2];
    const int32_t k = l.kernel_size[0];
    if (l.kernel_size[0] != l.kernel_size[1])
        c.map("kernel size should be symmetric. (got " + pair_text(l.kernel_size) + ")", "use a square kernel");
    else if (k != 3 && k != 5 && k != 7)
        c.map("kernel size should be 3, 5 or 7 (got " + to_string(k) + ")",
              "use a 3x3, 5x5 or 7x7 kernel in the first convolution");
    if (channels != 1 && channels != 3)
        c.map("input_channels must be 1 or 3 (got " + to_string(channels) + ")",
              "the HRC converts grayscale or RGB pixels; for other inputs start the model with InputData");
    else if (l.kernel_size[0] == l.kernel_size[1] && (k == 3 || k == 5 || k == 7)) {
        const int32_t max_filters = hrc_max_filters(channels, k);
        if (l.filters > max_filters)
            c.map("num_neurons should be set between 1 and " + to_string(max_filters) + " (got " +
                      to_string(l.filters) + " with a " + pair_text(l.kernel_size) + " kernel on " +
                      to_string(channels) + " channel" + (channels == 1 ? ")" : "s)"),
                  "use fewer filters in the first convolution, or a smaller kernel");
    }
    for (int32_t s : l.kernel_stride)
        if (s < 1 || s > kHrcMaxStride)
            c.map("stride should be 1, 2 or 3 (got " + pair_text(l.kernel_stride) + ")", "use strides of at most 3");
    // the smallest width giving 2 output columns, and never below the HRC minimum
    const int32_t valid_min_dim1 = std::max(kHrcMinDim1, k + l.kernel_stride[1]);
    if (l.padding == Padding::Valid && l.input_dims[1] < valid_min_dim1)
        c.map("With valid padding, a " + to_string(k) + " kernel size and a " + to_string(l.kernel_stride[1]) +
                  " kernel stride, input second dimension size cannot be smaller than " + to_string(valid_min_dim1) +
                  " (got " + to_string(l.input_dims[1]) + ")",
              "feed larger images, or use padding='same'");
    if (l.input_dims[1] < kHrcMinDim1)
        c.map("input second dimension size cannot be smaller than " + to_string(kHrcMinDim1) + " (got " +
                  to_string(l.input_dims[1]) + ")",
              "feed larger images");
    if (l.input_dims[1] > kHrcMaxDim1)
        c.map("input second dimension size cannot be higher than " + to_string(kHrcMaxDim1) + " (got " +
                  to_string(l.input_dims[1]) + ")",
              "resize the images (or transpose them: axis 0 may be up to 2048)");
    if (l.input_dims[0] < kHrcMinDim0)
        c.map("input first dimension size cannot be smaller than " + to_string(kHrcMinDim0) + " (got " +
                  to_string(l.input_dims[0]) + ")",
              "feed larger images");
    if (l.input_dims[0] < k)
        c.map("input first dimension size cannot be smaller than kernel size (got " + to_string(l.input_dims[0]) +
                  " for a " + pair_text(l.kernel_size) + " kernel)",
              "feed larger images, or use a smaller kernel in the first convolution");
    if (l.pool_type == PoolType::Average)
        c.map("pool_type cannot be Average", "move the global average pooling to a later layer");
    if (l.pool_type == PoolType::Max) {
        for (int axis : {1, 0})  // the reference checks y (axis 1) first
            if (l.pool_size[axis] < 1 || l.pool_size[axis] > kHrcMaxPool) {
                c.map(std::string(axis == 1 ? "pooling_y" : "pooling_x") + " should be 1 or 2 (got pool size " +
                          pair_text(l.pool_size) + ")",
                      "use a 2x2 max pooling in the first layer");
                break;
            }
        const auto stride = effective_pool_stride(l);
        if (stride != l.pool_size)
            c.map("pool_size and pool_stride should be equal (got " + pair_text(l.pool_size) + " and " +
                      pair_text(stride) + ")",
                  "use pool strides equal to the pool size");
        if (l.output_dims[1] < 2)
            c.map("with max pooling, output second dimension size must be at least 2 (got " +
                      to_string(l.output_dims[1]) + ")",
                  "feed larger images, use padding='same', or drop the max pooling of the first layer");
    }
    if (!l.activation)
        c.map("The first convolutional layer of a model can only be mapped if its activations are enabled",
              "follow the first convolution with a quantized ReLU");
}

// Input width and height at most kCnpMaxDim, for CNP and FNP layers alike; `width_fix` and
// `height_fix` say what to change.
void check_input_extent(const LayerSpec& l, Collector& c, const std::string& width_fix,
                        const std::string& height_fix) {
    if (l.input_dims[0] > kCnpMaxDim)
        c.map("The maximum input width is " + to_string(kCnpMaxDim) + " (got " + to_string(l.input_dims[0]) + ")",
              width_fix);
    if (l.input_dims[1] > kCnpMaxDim)
        c.map("The maximum input height is " + to_string(kCnpMaxDim) + " (got " + to_string(l.input_dims[1]) + ")",
              height_fix);
}

// In the order the reference checks them (tests/test_device_differential.py).
void check_cnp(const LayerSpec& l, Collector& c) {
    const bool separable = l.type == LayerType::SeparableConvolutional;
    const int32_t k = l.kernel_size[0];
    check_input_extent(l, c, "downsample the input", "downsample the input");
    const bool square = l.kernel_size[0] == l.kernel_size[1];
    if (!square)
        c.map("Kernel width and height must be equal (got " + pair_text(l.kernel_size) + ")", "use a square kernel");
    const auto s = l.kernel_stride;
    if (s[0] != s[1])
        c.map("Horizontal and vertical strides must be equal (got " + pair_text(s) + ")", "use equal strides");
    else if (s[0] < 1 || s[0] > kCnpMaxStride)
        c.map("Convolution stride must be 1 or 2 (got " + to_string(s[0]) + ")", "use stride 1 or 2");
    else if (s[0] == 2 && k != kCnpStride2Kernel)
        c.map("Convolution stride 2 is only supported with 3x3 kernels (got " + pair_text(l.kernel_size) + ")",
              "use a 3x3 kernel for strided convolutions, or stride 1 followed by max pooling");
    if (l.padding != Padding::Same) c.map("Only padding same is supported (got valid padding)", kSamePadding);
    if (l.pool_type == PoolType::Average) {
        if (l.input_dims[0] > kGapMaxInputDim0)
            c.map("With average pooling, input width cannot exceed " + to_string(kGapMaxInputDim0) + " (got " +
                      to_string(l.input_dims[0]) + ")",
                  "downsample (stride or max pooling) in an earlier layer so this layer's input is at most 32 wide");
        const int32_t rows = conv_output_size(l)[1];
        if (rows < kGapMinConvDim1)
            c.map("When using Global Average Pooling, the output of the convolution must have at least " +
                      to_string(kGapMinConvDim1) + " rows (currently " + to_string(rows) + ")",
                  "downsample less before the global average pooling");
    }
    if (l.pool_type == PoolType::Max) {
        const int32_t largest = std::max(l.pool_size[0], l.pool_size[1]);
        if (largest > kCnpMaxPool)
            c.map("Pooling size " + to_string(largest) + " is not supported on NSoC_v2", "use 2x2 max pooling");
        else if (l.pool_size[0] != l.pool_size[1])
            c.map("Pooling width and height must be equal (got " + pair_text(l.pool_size) + ")", "use a square pool");
        const auto ps = effective_pool_stride(l);
        if (ps[0] > l.pool_size[0] || ps[1] > l.pool_size[1])
            c.map("Pooling stride must not exceed the pool size (got stride " + pair_text(ps) + ", size " +
                      pair_text(l.pool_size) + ")",
                  "use a pool stride no larger than the pool size");
        if (l.pool_size[0] > l.input_dims[0] || l.pool_size[1] > l.input_dims[1])
            c.map("Pooling size cannot be greater than input dimensions (pool " + pair_text(l.pool_size) +
                      ", input " + pair_text({l.input_dims[0], l.input_dims[1]}) + ")",
                  "remove the pooling or use a larger input");
    }
    if (square && (separable ? (k != 3 && k != 5 && k != 7) : (k != 1 && k != 3 && k != 5 && k != 7)))
        c.map(std::string(separable ? "Kernel size must be 3, 5 or 7" : "Kernel size must be 1, 3, 5 or 7") +
                  " (got " + to_string(k) + ")",
              "use a supported kernel size");
    if (l.input_dims[2] > kCnpMaxChannels)
        c.map("The maximum input channel value is " + to_string(kCnpMaxChannels) + " (got " +
                  to_string(l.input_dims[2]) + ")",
              "reduce the channels of the previous layer");
    if (l.filters > kCnpMaxFilters)
        c.map("The maximum number of filters is " + to_string(kCnpMaxFilters) + " (got " + to_string(l.filters) + ")",
              "use fewer filters");
}

// Whether the weight bits are those of a CNP (reported otherwise).
bool check_cnp_weights_bits(const LayerSpec& l, Collector& c) {
    if (cnp_takes_weights_bits(l)) return true;
    if (l.type == LayerType::SeparableConvolutional)
        c.map("Separable CNP weights bitwidth must be 2 or 4 (got " + to_string(l.weights_bits) + ")", kRequantize);
    else
        c.map("Standard CNP weights bitwidth must be 1, 2 or 4 (got " + to_string(l.weights_bits) + ")", kRequantize);
    return false;
}

// The capacity rules the reference checks while it allocates the layer's NPs, in its order: global average
// pooling on a split input, the weight bits, the filter memory, the row buffer, the NP count, then the
// other split rules.
void check_cnp_capacity(const LayerSpec& l, int32_t input_bits, Collector& c) {
    if (!parameter_problems(l).empty()) {  // the capacity is meaningless then
        check_cnp_weights_bits(l, c);
        return;
    }
    const CnpSplit split = split_cnp_layer(l, 1, input_bits);
    const std::string strips = split.strips == 0 ? std::string(" (the input does not fit one strip)")
                                                 : " (the input is split into " + to_string(split.strips) +
                                                       " strips of " + to_string(split.strip_width) + " columns)";
    if (split.strips != 1 && l.pool_type == PoolType::Average)
        c.map("With average pooling, spatial split is impossible" + strips,
              "reduce the input width, the row size (axis 1 x channels) before the global average pooling");
    if (!check_cnp_weights_bits(l, c)) return;
    if (!split.problem.empty()) {
        c.map(split.problem, "use fewer input channels, fewer weight bits or a smaller input");
        return;
    }
    const auto nps = static_cast<int32_t>(split.filters.size());
    if (nps > kNpCount)
        c.map("not enough NPs available (the layer needs " + to_string(nps) + ", the AKD1000 has " +
                  to_string(kNpCount) + ")",
              "reduce the filters, the input channels or the input size of this layer");
    if (split.strips == 1) return;
    if (l.type == LayerType::Convolutional && l.pool_type == PoolType::Max && l.kernel_stride[0] > 1)
        c.map("Cannot use convolution stride 2 with max pooling on a layer split spatially over several NPs" + strips,
              "use stride 1 with max pooling, or make the input small enough for one strip");
    const auto ps = effective_pool_stride(l);
    if (l.pool_type == PoolType::Max && (ps[0] < l.pool_size[0] || ps[1] < l.pool_size[1]))
        c.map("Cannot have pooling size > pooling stride on a layer split spatially over several NPs" + strips,
              "use a pool stride equal to the pool size, or make the input small enough for one strip");
}

void check_fully_connected(const LayerSpec& l, Collector& c) {
    check_input_extent(l, c, "reshape or downsample the input of this dense layer (axis 0 at most 4096)",
                       "reshape or downsample the input of this dense layer (axis 1 at most 4096)");
    const int64_t inputs = static_cast<int64_t>(l.input_dims[0]) * l.input_dims[1] * l.input_dims[2];
    if (inputs > kFnpMaxInputs)
        c.map("Input dimensions are too large to fit in a FNP.  The maximum value is " + to_string(kFnpMaxInputs) +
                  " (got " + to_string(inputs) + ")",
              "reduce the input of this dense layer (pool or downsample before it)");
    if (l.weights_bits < 1 || l.weights_bits > kFnpMaxWeightBits)
        c.map("Weight bits should be between 1 and 4 inclusive. (got " + to_string(l.weights_bits) + ")", kRequantize);
}

const char* kScaleHint =
    "a tiny BatchNormalization gamma (or a large weight scale) inflates this layer's scale factor; fix: "
    "constrain the gammas with akq.gamma_constraint.add_gamma_constraint(model) and retrain";
const char* kInputScaleHint =
    "a too large input scaling or a tiny BatchNormalization gamma inflates the scale factor of the input "
    "layer; fix: reduce input_scaling in akq.convert(), or use "
    "akq.gamma_constraint.add_gamma_constraint(model) and retrain";
const char* kStepHint =
    "the activation step is huge compared to the weight scale (a tiny BatchNormalization gamma or a large "
    "input scaling); fix: use akq.gamma_constraint.add_gamma_constraint(model) and retrain, or reduce "
    "input_scaling";

const char* kInputStepHint =
    "reduce input_scaling in akq.convert() (the first layer's activation step grows with it), or use "
    "akq.gamma_constraint.add_gamma_constraint(model) and retrain";

void check_threshold(const LayerSpec& l, int32_t bits, const char* hint, Collector& c) {
    for (size_t i = 0; i < l.threshold.size(); ++i) {
        const int64_t t = l.threshold[i];
        if (!threshold_fits(t, bits)) {
            c.add(ProblemKind::Programming,
                  to_string(t) + " cannot fit in a " + to_string(bits) + " bits signed integer (threshold of filter " +
                      to_string(i) + ", range [" + to_string(-max_threshold(bits) - 1) + ", " +
                      to_string(max_threshold(bits)) + "])",
                  hint);
            return;
        }
    }
}

// The reference refuses an HRC step while mapping, and CNP/FNP steps while programming "Backend hardware(...)".
void check_step(const LayerSpec& l, int32_t bits, Collector& c) {
    const bool hrc = l.type == LayerType::InputConvolutional;
    const char* backend = l.type == LayerType::FullyConnected ? "FullyConnected" : "CNP";
    for (size_t i = 0; i < l.act_step.size(); ++i) {
        if (step_fits(l.act_step[i], bits)) continue;
        const double step = std::floor(static_cast<double>(l.act_step[i]));
        c.add(hrc ? ProblemKind::Mapping : ProblemKind::Programming,
              std::string(hrc ? "" : std::string("Backend hardware(") + backend + "): ") +
                  "act_step should be between 0 and " + to_string(max_step_integer(bits)) + ". Receives act_step " +
                  to_string(static_cast<int64_t>(step)) + " (filter " + to_string(i) +
                  ": floor(16 * act_step) must fit " + to_string(bits) + " bits unsigned)",
              hrc ? kInputStepHint : kStepHint);
        return;
    }
}

}  // namespace

std::string Problem::message() const {
    const char* what = kind == ProblemKind::Mapping ? "Error when mapping layer '" : "Error when programming layer '";
    const char* lead = kind == ProblemKind::Mapping ? ". Fix: " : ". Likely cause: ";
    return what + layer + "': " + reason + (hint.empty() ? "" : lead + hint);
}

std::vector<Problem> parameter_problems(const LayerSpec& l) {
    Collector c(l);
    switch (l.type) {
        case LayerType::InputData: break;
        case LayerType::InputConvolutional: check_input_convolutional(l, c); break;
        case LayerType::Convolutional:
        case LayerType::SeparableConvolutional: check_cnp(l, c); break;
        case LayerType::FullyConnected: check_fully_connected(l, c); break;
    }
    return c.take();
}

std::vector<Problem> capacity_problems(const LayerSpec& l, int32_t input_bits) {
    Collector c(l);
    const bool cnp = l.type == LayerType::Convolutional || l.type == LayerType::SeparableConvolutional;
    if (cnp) check_cnp_capacity(l, input_bits, c);
    return c.take();
}

std::vector<Problem> split_problems(const LayerSpec& l, int32_t input_bits) {
    Collector c(l);
    if (l.type != LayerType::Convolutional || l.input_dims[2] != 1 || !parameter_problems(l).empty() ||
        !capacity_problems(l, input_bits).empty())
        return c.take();
    for (int32_t f : split_cnp_layer(l, 1, input_bits).filters) {
        const int32_t groups = (f + kOneChannelGroup - 1) / kOneChannelGroup;
        if (groups > 1 && groups % 2 != 0) {
            c.map("With one input channel, the number of neurons per NP / 8 must be even (got " + to_string(f) +
                      " neurons on one NP)",
                  "use a filter count per NP that rounds up to an even number of 8s (e.g. 16, 32, 48)");
            break;
        }
    }
    return c.take();
}

std::vector<Problem> programming_problems(const LayerSpec& l) {
    Collector c(l);
    const FireRanges ranges = fire_ranges(l);
    if (ranges.threshold_bits > 0)
        check_threshold(l, ranges.threshold_bits,
                        l.type == LayerType::InputConvolutional ? kInputScaleHint : kScaleHint, c);
    if (ranges.step_bits > 0) check_step(l, ranges.step_bits, c);
    return c.take();
}

std::vector<Problem> sequence_problems(const LayerSpec& l, const LayerSpec* next) {
    Collector c(l);
    const bool cnp = l.type == LayerType::Convolutional || l.type == LayerType::SeparableConvolutional;
    if (!cnp || !max_pooled(l)) return c.take();
    if (next == nullptr)
        c.map("a layer with max pooling cannot be the last layer of a sequence",
              "make the next layer mappable, or end the model with a layer without max pooling");
    else if (next->type != LayerType::Convolutional && next->type != LayerType::SeparableConvolutional)
        return {Problem{next->name, ProblemKind::Mapping,  // the reference names the layer after the pooling
                        "it follows '" + l.name + "', and a layer with max pooling must be followed by another "
                        "convolutional or separable convolutional layer",
                        "insert a convolution between the max pooling of '" + l.name + "' and '" + next->name + "'"}};
    return c.take();
}

}  // namespace akq::device
