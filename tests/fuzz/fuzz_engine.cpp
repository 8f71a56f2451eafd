// libFuzzer harness of the engine on fuzzed models and inputs (scripts/fuzz.sh SECONDS fuzz_engine).
// Input: u16 LE model size, the .akq model (its CRC-32 is recomputed here), then input bytes.
// Properties: a model the reader accepts either compiles or raises akq::Error; forward and predict
// either raise akq::Error(Input) or finish; the scalar kernels on one thread and every other SIMD
// family the CPU has on two threads give bit-identical outputs. Crashes, sanitizer reports, other exceptions and
// mismatches are findings.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "akq/engine/engine.hpp"
#include "akq/engine/kernels.hpp"
#include "akq/error.hpp"
#include "akq/io/crc32.hpp"
#include "akq/io/model_file.hpp"

namespace {

constexpr double kMaxWork = 4e6;  // multiply-accumulates per sample: keeps every run fast

double work_per_sample(const akq::ModelSpec& m) {
    double work = 0;
    for (const akq::LayerSpec& l : m.layers) {
        const auto out = akq::conv_output_size(l);
        const double per_output = static_cast<double>(l.weights.data.size()) / (l.filters > 0 ? l.filters : 1);
        work += static_cast<double>(out[0]) * out[1] * (l.filters * per_output + static_cast<double>(l.weights_pw.data.size()));
        work += static_cast<double>(l.input_dims[0]) * l.input_dims[1] * l.input_dims[2];
    }
    return work;
}

struct Result {
    bool input_error = false;
    std::vector<uint8_t> activations;
    std::vector<int32_t> potentials;
    std::vector<float> predicted;
};

Result run(akq::Engine& engine, const std::vector<uint8_t>& input, int64_t batch, int threads) {
    Result r;
    akq::Output out;
    try {
        engine.forward(input.data(), batch, out, threads);
    } catch (const akq::Error& e) {
        if (e.kind() != akq::ErrorKind::Input) std::abort();
        r.input_error = true;
        return r;
    }
    r.activations = std::move(out.activations);
    r.potentials = std::move(out.potentials);
    if (!engine.last_has_activation()) {
        r.predicted.resize(r.potentials.size());
        engine.predict(input.data(), batch, r.predicted.data(), threads);
    }
    return r;
}

bool same(const Result& a, const Result& b) {
    return a.input_error == b.input_error && a.activations == b.activations && a.potentials == b.potentials &&
           a.predicted.size() == b.predicted.size() &&
           (a.predicted.empty() ||
            std::memcmp(a.predicted.data(), b.predicted.data(), a.predicted.size() * sizeof(float)) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const size_t model_size = data[0] | (size_t{data[1]} << 8);
    if (model_size > size - 2 || model_size < akq::io::kHeaderSize + akq::io::kTrailerSize) return 0;
    std::vector<uint8_t> model_bytes(data + 2, data + 2 + model_size);
    const uint32_t crc = akq::io::crc32(model_bytes.data(), model_size - 4);
    for (int i = 0; i < 4; ++i) model_bytes[model_size - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
    akq::ModelSpec spec;
    try {
        spec = akq::io::deserialize(model_bytes.data(), model_bytes.size());
    } catch (const akq::Error& e) {
        if (e.kind() != akq::ErrorKind::ModelFile) std::abort();
        return 0;
    }
    if (work_per_sample(spec) > kMaxWork) return 0;
    std::unique_ptr<akq::Engine> engine;
    try {
        engine = std::make_unique<akq::Engine>(spec);
    } catch (const akq::Error&) {
        return 0;  // e.g. an act_step the engine cannot divide by (EngineError)
    }

    const uint8_t* rest = data + 2 + model_size;
    const size_t rest_size = size - 2 - model_size;
    const uint8_t control = rest_size ? rest[0] : 0;
    const int64_t batch = 1 + control % 3;
    std::vector<uint8_t> input(static_cast<size_t>(batch * engine->input_size()), 0);
    for (size_t i = 0; i < input.size() && rest_size > 1; ++i) input[i] = rest[1 + i % (rest_size - 1)];
    const akq::LayerSpec& first = spec.layers.front();
    if ((control & 0x80) && first.type == akq::LayerType::InputData && first.input_bits < 8)
        for (uint8_t& v : input) v &= static_cast<uint8_t>((1u << first.input_bits) - 1);

    akq::set_simd_level("scalar");
    const Result scalar = run(*engine, input, batch, 1);
    for (akq::SimdLevel level : akq::supported_simd_levels()) {
        if (level == akq::SimdLevel::Scalar) continue;
        akq::set_simd_level(akq::simd_level_name(level));
        if (!same(scalar, run(*engine, input, batch, 2))) std::abort();
    }
    return 0;
}
