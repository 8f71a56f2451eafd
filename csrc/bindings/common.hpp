// Shared helpers of the binding files: numpy <-> std::vector without loops in Python.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <vector>

namespace akq_bindings {
namespace py = pybind11;

template <class T>
py::array_t<T> to_numpy(const std::vector<T>& values, std::vector<py::ssize_t> shape) {
    py::array_t<T> out(shape);
    std::copy(values.begin(), values.end(), out.mutable_data());
    return out;
}

template <class T>
std::vector<T> from_numpy(const py::array_t<T, py::array::c_style | py::array::forcecast>& array) {
    return std::vector<T>(array.data(), array.data() + array.size());
}

void bind_model(py::module_& m);
void bind_quantize(py::module_& m);
void bind_convert(py::module_& m);
void bind_engine(py::module_& m);
void bind_io(py::module_& m);
void bind_device(py::module_& m);
void bind_learning(py::module_& m);

}  // namespace akq_bindings
