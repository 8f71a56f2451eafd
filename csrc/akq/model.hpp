// The integer model as plain data: what conversion produces, the engine runs, the device maps
// and the .akq file stores. Field names follow the reference's layer parameters (docs/spec C.8).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace akq {

// Numeric values are part of the .akq file format: never renumber.
enum class LayerType : uint8_t {
    InputData = 0,
    InputConvolutional = 1,
    Convolutional = 2,
    SeparableConvolutional = 3,
    FullyConnected = 4,
};
enum class Padding : uint8_t { Valid = 0, Same = 1 };
enum class PoolType : uint8_t { NoPooling = 0, Max = 1, Average = 2 };

// A dense row-major int8 array (weights are (k0, k1, C, F); FC weights (1, 1, N_in, U)).
struct Int8Tensor {
    std::array<int32_t, 4> shape{0, 0, 0, 0};
    std::vector<int8_t> data;
};

struct LayerSpec {
    std::string name;
    LayerType type = LayerType::Convolutional;
    std::array<int32_t, 3> input_dims{0, 0, 0};   // (D0, D1, C) seen by this layer
    std::array<int32_t, 3> output_dims{0, 0, 0};  // (O0, O1, F) after pooling
    int32_t input_bits = 4;                       // InputData only
    std::array<int32_t, 2> kernel_size{1, 1};
    std::array<int32_t, 2> kernel_stride{1, 1};
    Padding padding = Padding::Same;
    PoolType pool_type = PoolType::NoPooling;
    std::array<int32_t, 2> pool_size{-1, -1};
    std::array<int32_t, 2> pool_stride{-1, -1};
    int32_t filters = 0;  // units for FullyConnected
    int32_t weights_bits = 1;
    bool activation = true;
    int32_t act_bits = 1;
    int32_t padding_value = 0;  // InputConvolutional only; used modulo 256 (docs/spec C.3)
    Int8Tensor weights;         // empty for InputData
    Int8Tensor weights_pw;      // SeparableConvolutional only
    std::vector<int32_t> threshold;  // (F,)
    std::vector<float> act_step;     // (F,)
};

struct ModelSpec {
    std::vector<LayerSpec> layers;
};

}  // namespace akq

namespace akq {

// Shape arithmetic (docs/spec C.3, C.4).
std::array<int32_t, 2> conv_output_size(const LayerSpec& l);   // before pooling
std::array<int32_t, 2> effective_pool_stride(const LayerSpec& l);  // negative stride means pool_size
std::array<int32_t, 3> output_dims(const LayerSpec& l);         // after pooling
std::array<int32_t, 4> expected_weights_shape(const LayerSpec& l);

// Validation; each throws akq::Error(InvalidArgument) naming the layer and the rule.
void check_layer_parameters(const LayerSpec& l);  // docs/spec C.8 construction rules
void check_variables(const LayerSpec& l);         // shapes, weight ranges, act_step >= 1/16 and finite
void check_model(const ModelSpec& m);             // all of the above plus the layer chain

}  // namespace akq
