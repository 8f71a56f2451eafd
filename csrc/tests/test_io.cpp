// .akq files from C++: round trips, files on disk, rejection of damaged data, and load/save loops
// (run under the AKQ_SANITIZE build, LeakSanitizer reports any leak of these loops).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <system_error>

#include "akq/engine/engine.hpp"
#include "akq/engine/learning.hpp"
#include "akq/error.hpp"
#include "akq/io/crc32.hpp"
#include "akq/io/model_file.hpp"
#include "check.hpp"

namespace {

using akq_test::failures;

akq::ModelSpec small_model() {
    akq::LayerSpec in;
    in.name = "input";
    in.type = akq::LayerType::InputConvolutional;
    in.input_dims = {5, 4, 3};
    in.kernel_size = {3, 3};
    in.filters = 2;
    in.weights_bits = 8;
    in.act_bits = 4;
    in.padding_value = -7;
    in.pool_type = akq::PoolType::Max;
    in.pool_size = {2, 2};
    in.output_dims = akq::output_dims(in);
    in.weights.shape = akq::expected_weights_shape(in);
    for (int i = 0; i < 3 * 3 * 3 * 2; ++i) in.weights.data.push_back(static_cast<int8_t>(i * 37 % 256 - 128));
    in.threshold = {-5, 1 << 30};
    in.act_step = {0.0625f, 1.3f};

    akq::LayerSpec fc;
    fc.name = "fc";
    fc.type = akq::LayerType::FullyConnected;
    fc.input_dims = in.output_dims;
    fc.filters = 3;
    fc.weights_bits = 2;
    fc.activation = false;
    fc.output_dims = akq::output_dims(fc);
    fc.weights.shape = akq::expected_weights_shape(fc);
    fc.weights.data.assign(static_cast<size_t>(fc.weights.shape[2]) * 3, 0);
    for (size_t i = 0; i < fc.weights.data.size(); ++i) fc.weights.data[i] = static_cast<int8_t>(int(i % 3) - 1);
    fc.threshold = {0, 1, 2};
    fc.act_step = {1.0f, 2.0f, 3.0f};

    akq::ModelSpec m;
    m.layers = {in, fc};
    return m;
}

bool throws_model_file_error(const std::vector<uint8_t>& bytes) {
    return akq_test::throws([&] { akq::io::deserialize(bytes.data(), bytes.size()); }, akq::ErrorKind::ModelFile);
}

void test_crc32_matches_the_standard_check_value() {
    const std::string s = "123456789";
    CHECK(akq::io::crc32(reinterpret_cast<const uint8_t*>(s.data()), s.size()) == 0xCBF43926u);
}

void test_round_trip_is_exact() {
    const auto bytes = akq::io::serialize(small_model());
    const akq::ModelSpec back = akq::io::deserialize(bytes.data(), bytes.size());
    CHECK(back.layers.size() == 2);
    CHECK(back.layers[0].name == "input" && back.layers[0].padding_value == -7);
    CHECK(back.layers[0].weights.data == small_model().layers[0].weights.data);
    CHECK(back.layers[0].act_step == small_model().layers[0].act_step);
    CHECK(back.layers[1].activation == false && back.layers[1].threshold[2] == 2);
    CHECK(akq::io::serialize(back) == bytes);
}

void test_damaged_bytes_are_rejected() {
    const auto bytes = akq::io::serialize(small_model());
    for (size_t n = 0; n < bytes.size(); ++n)
        CHECK(throws_model_file_error(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n)));
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto damaged = bytes;
        damaged[i] ^= 0x10;
        CHECK(throws_model_file_error(damaged));
    }
    auto longer = bytes;
    longer.push_back(0);
    CHECK(throws_model_file_error(longer));
}

void test_invalid_model_is_not_serialized() {
    akq::ModelSpec m = small_model();
    m.layers[1].act_step[0] = 0.01f;
    bool refused = false;
    try {
        akq::io::serialize(m);
    } catch (const akq::Error& e) {
        refused = e.kind() == akq::ErrorKind::InvalidArgument;
    }
    CHECK(refused);
}

std::string make_temp_dir() {
    char dir_template[] = "/tmp/akq_test_io_XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    if (!dir) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    return dir;
}

// A model compiled for learning is written as version 2 with its learning record, and reads back;
// without learning state the same model is still version 1.
void test_learning_state_round_trips_as_version_2() {
    akq::ModelSpec m = small_model();
    m.layers[0].act_bits = 1;
    m.layers[1].weights_bits = 1;
    std::fill(m.layers[1].weights.data.begin(), m.layers[1].weights.data.end(), int8_t{1});
    CHECK(akq::io::serialize(m)[8] == 1);
    akq::LearningParams p;
    p.num_weights = 5;
    p.num_classes = 3;
    p.learning_competition = 0.3;
    akq::compile_learning(m, p, 11);
    int64_t counter = 0;
    const std::vector<uint8_t> spikes(static_cast<size_t>(m.layers[1].weights.shape[2]) * 2, 1);
    akq::fit_last_layer(m.layers[1], p, spikes.data(), 2, {1}, counter);
    const std::vector<uint8_t> bytes = akq::io::serialize(m);
    CHECK(bytes[8] == 2);
    const akq::ModelSpec back = akq::io::deserialize(bytes.data(), bytes.size());
    CHECK(back.learning && back.learning->num_classes == 3 && back.learning->learning_competition == 0.3);
    CHECK(back.layers[1].thswap == m.layers[1].thswap);
    CHECK(back.layers[1].threshold_learning == m.layers[1].threshold_learning);
    CHECK(back.layers[1].weights.data == m.layers[1].weights.data);
    CHECK(akq::io::serialize(back) == bytes);
    CHECK(akq_test::throws([&] { akq::compile_learning(m, p, 11); }, akq::ErrorKind::LearningState));
}

void test_files_and_os_errors() {
    const std::string dir = make_temp_dir();
    const std::string path = dir + "/model.akq";
    akq::io::save_model(small_model(), path);
    CHECK(akq::io::serialize(akq::io::load_model(path)) == akq::io::serialize(small_model()));
    bool missing = false;
    try {
        akq::io::load_model(dir + "/missing.akq");
    } catch (const std::system_error& e) {
        missing = e.code() == std::errc::no_such_file_or_directory;
    }
    CHECK(missing);
    bool no_dir = false;
    try {
        akq::io::save_model(small_model(), dir + "/no/model.akq");
    } catch (const std::system_error& e) {
        no_dir = e.code() == std::errc::no_such_file_or_directory;
    }
    CHECK(no_dir);
    std::remove(path.c_str());
    CHECK(::rmdir(dir.c_str()) == 0);  // empty: no temporary file was left behind
}

void test_non_regular_files_are_not_replaced_and_reads_are_bounded() {
    const std::string dir = make_temp_dir();
    const std::string fifo = dir + "/fifo";
    CHECK(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(akq_test::throws([&] { akq::io::save_model(small_model(), fifo); }, akq::ErrorKind::Path));
    CHECK(akq_test::throws([] { akq::io::load_model("/dev/zero"); }, akq::ErrorKind::ModelFile));  // no endless read
    const std::string lying = dir + "/lying.akq";
    auto bytes = akq::io::serialize(small_model());
    bytes.resize(64);
    for (int i = 0; i < 8; ++i) bytes[16 + i] = 0xFF;  // a body of 2^64 - 1 bytes
    if (std::FILE* f = std::fopen(lying.c_str(), "wb")) {
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fclose(f);
    }
    CHECK(akq_test::throws([&] { akq::io::load_model(lying); }, akq::ErrorKind::ModelFile));
    std::remove(lying.c_str());
    std::remove(fifo.c_str());
    CHECK(::rmdir(dir.c_str()) == 0);  // the FIFO was not replaced: no temporary file left either
}

void test_load_predict_save_loops() {
    const std::string dir = make_temp_dir();
    const std::string path = dir + "/model.akq";
    akq::io::save_model(small_model(), path);
    std::vector<uint8_t> input(2 * 5 * 4 * 3);
    for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<uint8_t>(i * 29);
    std::vector<float> first;
    for (int i = 0; i < 50; ++i) {
        const akq::ModelSpec spec = akq::io::load_model(path);
        akq::Engine engine(spec);
        std::vector<float> predicted(2 * 3);
        engine.predict(input.data(), 2, predicted.data(), 1 + i % 2);
        if (first.empty()) first = predicted;
        CHECK(predicted == first);
        akq::io::save_model(spec, path);
    }
    std::remove(path.c_str());
    ::rmdir(dir.c_str());
}

void test_load_save_loops() {
    const std::string dir = make_temp_dir();
    const std::string path = dir + "/model.akq";
    const auto reference = akq::io::serialize(small_model());
    for (int i = 0; i < 100; ++i) {
        akq::io::save_model(akq::io::deserialize(reference.data(), reference.size()), path);
        CHECK(akq::io::serialize(akq::io::load_model(path)) == reference);
        auto truncated = reference;
        truncated.resize(static_cast<size_t>(i) % reference.size());
        CHECK(throws_model_file_error(truncated));
    }
    std::remove(path.c_str());
    ::rmdir(dir.c_str());
}

}  // namespace

int main() {
    test_crc32_matches_the_standard_check_value();
    test_round_trip_is_exact();
    test_damaged_bytes_are_rejected();
    test_invalid_model_is_not_serialized();
    test_learning_state_round_trips_as_version_2();
    test_files_and_os_errors();
    test_non_regular_files_are_not_replaced_and_reads_are_bounded();
    test_load_save_loops();
    test_load_predict_save_loops();
    if (failures) std::cerr << failures << " checks failed\n";
    else std::cout << "test_io: all checks passed\n";
    return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
