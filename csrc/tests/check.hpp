// Checks shared by the C++ unit tests (csrc/tests), header-only and without a framework: a failed
// check prints where and what, counts in akq_test::failures and the test goes on; main returns
// non-zero when failures != 0. Each test is one executable built from one source file.
#pragma once

#include <cstdio>
#include <utility>

#include "akq/error.hpp"

namespace akq_test {

inline int failures = 0;

// check(ok, "what was expected"): for checks that read better with a sentence than with the condition.
inline void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        ++failures;
    }
}

// True when call() throws akq::Error of the given kind; false when it returns or throws another kind.
template <class Call>
bool throws(Call&& call, akq::ErrorKind kind) {
    try {
        std::forward<Call>(call)();
    } catch (const akq::Error& e) {
        return e.kind() == kind;
    }
    return false;
}

}  // namespace akq_test

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ++akq_test::failures;                                                         \
        }                                                                                 \
    } while (0)
