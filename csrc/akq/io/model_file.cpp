// Writer and bounds-checked reader of the .akq format (layout: docs/file-format.md).
#include "akq/io/model_file.hpp"

#include <cstring>

#include "akq/error.hpp"
#include "akq/io/byte_io.hpp"
#include "akq/io/crc32.hpp"
#include "akq/io/file_system.hpp"

namespace akq::io {

namespace {

// Smallest possible layer record: empty name, no tensor data, no thresholds or steps.
constexpr size_t kMinLayerRecord = 4 + 4 + 6 * 4 + 13 * 4 + 2 * 16 + 2 * 4;

[[noreturn]] void corrupt(const std::string& message) {
    throw Error(ErrorKind::ModelFile, "the .akq data is corrupted: " + message);
}

bool is_valid_utf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<uint8_t>(s[i]);
        size_t extra;
        uint32_t code;
        if (c < 0x80) extra = 0, code = c;
        else if ((c & 0xE0) == 0xC0) extra = 1, code = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) extra = 2, code = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) extra = 3, code = c & 0x07;
        else return false;
        if (extra > s.size() - i - 1) return false;
        for (size_t k = 1; k <= extra; ++k) {
            const auto d = static_cast<uint8_t>(s[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            code = (code << 6) | (d & 0x3F);
        }
        static const uint32_t kSmallest[4] = {0, 0x80, 0x800, 0x10000};
        if (code < kSmallest[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
        i += extra + 1;
    }
    return true;
}

void write_tensor(ByteWriter& w, const Int8Tensor& t) {
    for (int32_t d : t.shape) w.i32(d);
    w.raw(t.data.data(), t.data.size());
}

void write_layer(ByteWriter& w, const LayerSpec& l) {
    if (!is_valid_utf8(l.name)) throw Error(ErrorKind::InvalidArgument, "a layer name is not valid UTF-8");
    if (l.name.size() > UINT32_MAX) throw Error(ErrorKind::InvalidArgument, "a layer name is too long to save");
    w.u32(static_cast<uint32_t>(l.name.size()));
    w.raw(l.name.data(), l.name.size());
    w.u8(static_cast<uint8_t>(l.type));
    w.u8(static_cast<uint8_t>(l.padding));
    w.u8(static_cast<uint8_t>(l.pool_type));
    w.u8(l.activation ? 1 : 0);
    for (int32_t d : l.input_dims) w.i32(d);
    for (int32_t d : l.output_dims) w.i32(d);
    w.i32(l.input_bits);
    for (int32_t v : l.kernel_size) w.i32(v);
    for (int32_t v : l.kernel_stride) w.i32(v);
    for (int32_t v : l.pool_size) w.i32(v);
    for (int32_t v : l.pool_stride) w.i32(v);
    w.i32(l.filters);
    w.i32(l.weights_bits);
    w.i32(l.act_bits);
    w.i32(l.padding_value);
    write_tensor(w, l.weights);
    write_tensor(w, l.weights_pw);
    w.u32(static_cast<uint32_t>(l.threshold.size()));  // check_model bounds these by 65536 filters
    for (int32_t t : l.threshold) w.i32(t);
    w.u32(static_cast<uint32_t>(l.act_step.size()));
    for (float s : l.act_step) w.f32(s);
}

Int8Tensor read_tensor(ByteReader& r, const char* what) {
    Int8Tensor t;
    for (int32_t& d : t.shape) {
        d = r.i32(what);
        if (d < 0) corrupt(std::string(what) + " has a negative dimension " + std::to_string(d));
    }
    // Multiply only while the count stays within the bytes left: no overflow, no huge allocation.
    uint64_t count = 1;
    for (int32_t d : t.shape) {
        if (d != 0 && count > r.remaining() / static_cast<uint64_t>(d))
            corrupt(std::string(what) + " shape (" + std::to_string(t.shape[0]) + ", " + std::to_string(t.shape[1]) +
                    ", " + std::to_string(t.shape[2]) + ", " + std::to_string(t.shape[3]) + ") needs more than the " +
                    std::to_string(r.remaining()) + " bytes left");
        count *= static_cast<uint64_t>(d);
    }
    t.data.resize(static_cast<size_t>(count));
    r.raw(t.data.data(), t.data.size(), what);
    return t;
}

template <class T, class ReadOne>
std::vector<T> read_array(ByteReader& r, const char* what, ReadOne read_one) {
    const uint32_t count = r.u32(what);
    r.require(count, sizeof(T), what);
    std::vector<T> values(count);
    for (T& v : values) v = read_one(what);
    return values;
}

template <class E>
E read_enum(ByteReader& r, uint8_t last, const char* what) {
    const uint8_t v = r.u8(what);
    if (v > last) corrupt(std::string(what) + " code " + std::to_string(v) + " is unknown (at most " +
                          std::to_string(last) + ")");
    return static_cast<E>(v);
}

LayerSpec read_layer(ByteReader& r) {
    LayerSpec l;
    const uint32_t name_size = r.u32("layer name length");
    r.require(name_size, 1, "layer name");
    l.name.resize(name_size);
    r.raw(&l.name[0], name_size, "layer name");
    if (!is_valid_utf8(l.name)) corrupt("a layer name is not valid UTF-8");
    l.type = read_enum<LayerType>(r, static_cast<uint8_t>(LayerType::FullyConnected), "layer type");
    l.padding = read_enum<Padding>(r, static_cast<uint8_t>(Padding::Same), "padding");
    l.pool_type = read_enum<PoolType>(r, static_cast<uint8_t>(PoolType::Average), "pool type");
    const uint8_t activation = r.u8("activation");
    if (activation > 1) corrupt("activation flag " + std::to_string(activation) + " is not 0 or 1");
    l.activation = activation == 1;
    for (int32_t& d : l.input_dims) d = r.i32("input_dims");
    for (int32_t& d : l.output_dims) d = r.i32("output_dims");
    l.input_bits = r.i32("input_bits");
    for (int32_t& v : l.kernel_size) v = r.i32("kernel_size");
    for (int32_t& v : l.kernel_stride) v = r.i32("kernel_stride");
    for (int32_t& v : l.pool_size) v = r.i32("pool_size");
    for (int32_t& v : l.pool_stride) v = r.i32("pool_stride");
    l.filters = r.i32("filters");
    l.weights_bits = r.i32("weights_bits");
    l.act_bits = r.i32("act_bits");
    l.padding_value = r.i32("padding_value");
    l.weights = read_tensor(r, "weights");
    l.weights_pw = read_tensor(r, "weights_pw");
    l.threshold = read_array<int32_t>(r, "threshold", [&r](const char* w) { return r.i32(w); });
    l.act_step = read_array<float>(r, "act_step", [&r](const char* w) { return r.f32(w); });
    return l;
}

void write_learning(ByteWriter& w, const ModelSpec& model) {
    const LearningParams& p = *model.learning;
    const LayerSpec& last = model.layers.back();
    w.i32(p.num_weights);
    w.i32(p.num_classes);
    for (double v : {p.initial_plasticity, p.learning_competition, p.min_plasticity, p.plasticity_decay}) w.f64(v);
    for (const auto* values : {&last.threshold_learning, &last.thswap}) {
        w.u32(static_cast<uint32_t>(values->size()));
        for (int32_t v : *values) w.i32(v);
    }
}

void read_learning(ByteReader& r, ModelSpec& model) {
    if (model.layers.empty()) corrupt("a learning record needs a layer to learn");
    LearningParams p;
    p.num_weights = r.i32("num_weights");
    p.num_classes = r.i32("num_classes");
    for (double* v : {&p.initial_plasticity, &p.learning_competition, &p.min_plasticity, &p.plasticity_decay})
        *v = r.f64("learning parameter");
    LayerSpec& last = model.layers.back();
    last.threshold_learning = read_array<int32_t>(r, "threshold_learning", [&r](const char* w) { return r.i32(w); });
    last.thswap = read_array<int32_t>(r, "thswap", [&r](const char* w) { return r.i32(w); });
    model.learning = p;
}

struct Header {
    uint32_t version = 0;
    uint32_t flags = 0;
    uint64_t body_size = 0;
    uint32_t layer_count = 0;
    uint32_t reserved = 0;
};

// The header of data whose first `size` bytes are at `data`, after checking its magic and version.
Header read_header(const uint8_t* data, size_t size) {
    if (size == 0) throw Error(ErrorKind::ModelFile, "the .akq data is empty");
    const size_t magic_bytes = size < sizeof kMagic ? size : sizeof kMagic;
    if (std::memcmp(data, kMagic, magic_bytes) != 0)
        throw Error(ErrorKind::ModelFile, "the data is not an .akq model file (its first bytes are not the .akq magic)");
    if (size < kHeaderSize + kTrailerSize)
        throw Error(ErrorKind::ModelFile, "the .akq data is truncated: " + std::to_string(size) +
                                              " bytes, less than the " + std::to_string(kHeaderSize + kTrailerSize) +
                                              " of an empty file");
    ByteReader reader(data + sizeof kMagic, kHeaderSize - sizeof kMagic);
    Header header;
    header.version = reader.u32("format version");
    if (header.version < kFirstFormatVersion || header.version > kFormatVersion)
        throw Error(ErrorKind::ModelFile, "the .akq file has format version " + std::to_string(header.version) +
                                              "; this akq reads versions " + std::to_string(kFirstFormatVersion) +
                                              " to " + std::to_string(kFormatVersion) +
                                              " (save the model again with a matching akq)");
    header.flags = reader.u32("flags");
    header.body_size = reader.u64("body size");
    header.layer_count = reader.u32("layer count");
    header.reserved = reader.u32("reserved");
    return header;
}

// Refuse data of `size` bytes whose header announces another length.
void check_size(const Header& header, uint64_t size) {
    const uint64_t available = size - kHeaderSize - kTrailerSize;  // read_header checked size >= 36
    if (header.body_size > available)
        throw Error(ErrorKind::ModelFile, "the .akq data is truncated: its header announces a body of " +
                                              std::to_string(header.body_size) + " bytes but only " +
                                              std::to_string(available) + " follow (" + std::to_string(size) +
                                              " bytes in all)");
    if (header.body_size < available)
        throw Error(ErrorKind::ModelFile, "the .akq data has " + std::to_string(available - header.body_size) +
                                              " unexpected bytes after its end (a concatenated or damaged file)");
}

}  // namespace

std::vector<uint8_t> serialize(const ModelSpec& model) {
    check_model(model);
    ByteWriter w;
    w.raw(kMagic, sizeof kMagic);
    w.u32(model.learning ? kFormatVersion : kFirstFormatVersion);
    w.u32(0);  // flags
    w.u64(0);  // body size, patched below
    w.u32(static_cast<uint32_t>(model.layers.size()));
    w.u32(0);  // reserved
    for (const LayerSpec& l : model.layers) write_layer(w, l);
    if (model.learning) write_learning(w, model);
    w.patch_u64(16, w.size() - kHeaderSize);
    w.u32(crc32(w.bytes().data(), w.size()));
    return std::move(w.bytes());
}

ModelSpec deserialize(const uint8_t* data, size_t size) {
    const Header header = read_header(data, size);
    check_size(header, size);
    const size_t available = size - kHeaderSize - kTrailerSize;
    const uint32_t version = header.version, flags = header.flags, reserved = header.reserved;
    const uint32_t layer_count = header.layer_count;
    uint32_t stored_crc = 0;
    for (int i = 0; i < 4; ++i) stored_crc |= static_cast<uint32_t>(data[size - 4 + i]) << (8 * i);
    const uint32_t actual_crc = crc32(data, size - kTrailerSize);
    if (stored_crc != actual_crc)
        throw Error(ErrorKind::ModelFile, "the .akq data is corrupted: its CRC-32 checksum does not match its contents");
    if (flags != 0 || reserved != 0)
        corrupt("the header's flags/reserved fields are not zero (written by a newer akq?)");

    ByteReader body(data + kHeaderSize, available);
    body.require(layer_count, kMinLayerRecord, "layer records");
    ModelSpec model;
    model.layers.reserve(layer_count);
    for (uint32_t i = 0; i < layer_count; ++i) model.layers.push_back(read_layer(body));
    if (version == 2) read_learning(body, model);
    if (body.remaining() != 0)
        corrupt(std::to_string(body.remaining()) + " bytes are left after the last of " +
                std::to_string(layer_count) + " layers");
    try {
        check_model(model);
    } catch (const Error& e) {
        throw Error(ErrorKind::ModelFile, std::string("the .akq data holds an invalid model: ") + e.what());
    }
    return model;
}

void save_model(const ModelSpec& model, const std::string& path) { write_file_atomically(path, serialize(model)); }

ModelSpec load_model(const std::string& path) {
    InputFile file(path);
    std::vector<uint8_t> bytes;
    file.read(bytes, kHeaderSize + kTrailerSize);
    const Header header = read_header(bytes.data(), bytes.size());
    const int64_t size = file.regular_size();
    if (size >= 0) {  // a regular file: check the announced size before reading (and allocating) the rest
        check_size(header, static_cast<uint64_t>(size));
        file.read(bytes, static_cast<size_t>(header.body_size));
    } else {  // a pipe or device: read what the header announces and one byte more, to see extra data
        const uint64_t rest = header.body_size < SIZE_MAX - 1 ? header.body_size + 1 : SIZE_MAX;
        file.read(bytes, static_cast<size_t>(rest));
    }
    return deserialize(bytes.data(), bytes.size());
}

}  // namespace akq::io
