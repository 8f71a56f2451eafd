// Bindings of the io area (filled in by its issue).
#include "common.hpp"

namespace akq_bindings {

void bind_io(py::module_& m) { (void)m; }

}  // namespace akq_bindings
