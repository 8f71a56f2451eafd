// Bindings of the engine area (filled in by its issue).
#include "common.hpp"

namespace akq_bindings {

void bind_engine(py::module_& m) { (void)m; }

}  // namespace akq_bindings
