// .akq files: ModelSpec <-> bytes and files. The GIL is released while bytes are encoded, parsed or
// written; operating-system failures become the matching OSError (FileNotFoundError, ...).
#include <system_error>

#include "akq/io/model_file.hpp"
#include "common.hpp"

namespace akq_bindings {

namespace {

// `path` holds the file system's bytes (Python passes os.fsencode(path)), which need not be UTF-8.
[[noreturn]] void raise_os_error(const std::system_error& e, const std::string& path) {
    const py::object name = py::reinterpret_steal<py::object>(
        PyUnicode_DecodeFSDefaultAndSize(path.data(), static_cast<py::ssize_t>(path.size())));
    errno = e.code().value();
    PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, name.ptr());
    throw py::error_already_set();
}

}  // namespace

void bind_io(py::module_& m) {
    m.attr("AKQ_FORMAT_VERSION") = akq::io::kFormatVersion;
    m.def(
        "serialize_model",
        [](const akq::ModelSpec& model) {
            std::vector<uint8_t> bytes;
            {
                py::gil_scoped_release release;
                bytes = akq::io::serialize(model);
            }
            return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        },
        "The .akq file contents of a ModelSpec (LayerError if the model is invalid).");
    m.def(
        "deserialize_model",
        [](const py::bytes& data) {
            char* buffer = nullptr;
            py::ssize_t size = 0;
            if (PyBytes_AsStringAndSize(data.ptr(), &buffer, &size) != 0) throw py::error_already_set();
            py::gil_scoped_release release;
            return akq::io::deserialize(reinterpret_cast<const uint8_t*>(buffer), static_cast<size_t>(size));
        },
        "The ModelSpec stored in .akq bytes (ModelFileError if truncated, corrupted or invalid).");
    m.def(
        "save_model_file",
        [](const akq::ModelSpec& model, const std::string& path) {
            try {
                py::gil_scoped_release release;
                akq::io::save_model(model, path);
            } catch (const std::system_error& e) {
                raise_os_error(e, path);
            }
        },
        "Write a ModelSpec to `path` atomically (temporary file, fsync, rename).");
    m.def(
        "load_model_file",
        [](const std::string& path) {
            try {
                py::gil_scoped_release release;
                return akq::io::load_model(path);
            } catch (const std::system_error& e) {
                raise_os_error(e, path);
            }
        },
        "The ModelSpec stored in the .akq file at `path`.");
}

}  // namespace akq_bindings
