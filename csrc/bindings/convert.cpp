// Bindings of the convert area (filled in by its issue).
#include "common.hpp"

namespace akq_bindings {

void bind_convert(py::module_& m) { (void)m; }

}  // namespace akq_bindings
