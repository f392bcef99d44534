// SPDX-License-Identifier: MIT
//
// The Boost.Interprocess peer: a managed_shared_memory segment, which keeps
// its heap (an rbtree best-fit allocator behind an interprocess mutex) inside
// the shared segment itself. Exposed to the C driver as a bench_impl table;
// nothing here lets an exception cross into C.

#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/version.hpp>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include <unistd.h>

#include "bench.h"

namespace bip = boost::interprocess;

namespace {

struct boost_heap {
        std::string name;
        bip::managed_shared_memory segment;
};

// Names must be unique per live segment and must not collide with another
// benchmark running on the same machine: pid plus a counter.
std::string next_name()
{
        static unsigned long counter;
        return "lsashm-bench-" + std::to_string(static_cast<long>(getpid())) + "-" +
               std::to_string(counter++);
}

int boost_create(void **ret_ctx, uint64_t max_size, uint64_t /* initial_size */)
{
        // The segment's size is fixed at creation: Boost cannot grow a mapped
        // segment in place, so it gets max_size up front (pages still commit
        // on first touch).
        boost_heap *h = new (std::nothrow) boost_heap;
        if (!h)
                return -ENOMEM;
        try {
                h->name = next_name();
                bip::shared_memory_object::remove(h->name.c_str());
                h->segment = bip::managed_shared_memory(bip::create_only, h->name.c_str(),
                                                        static_cast<std::size_t>(max_size));
        } catch (const std::exception &e) {
                std::fprintf(stderr, "bench: boost create: %s\n", e.what());
                if (!h->name.empty())
                        bip::shared_memory_object::remove(h->name.c_str());
                delete h;
                return -ENOMEM;
        }
        *ret_ctx = h;
        return 0;
}

void *boost_alloc(void *ctx, std::size_t size)
{
        return static_cast<boost_heap *>(ctx)->segment.allocate(size, std::nothrow);
}

void boost_free(void *ctx, void *ptr)
{
        static_cast<boost_heap *>(ctx)->segment.deallocate(ptr);
}

int boost_destroy(void *ctx)
{
        boost_heap *h = static_cast<boost_heap *>(ctx);
        // Unmap first, then drop the name: the segment is gone for good.
        int ret = 0;
        try {
                h->segment = bip::managed_shared_memory();
                if (!bip::shared_memory_object::remove(h->name.c_str()))
                        ret = -ENOENT;
        } catch (const std::exception &e) {
                std::fprintf(stderr, "bench: boost destroy: %s\n", e.what());
                ret = -EIO;
        }
        delete h;
        return ret;
}

uint64_t boost_peak_committed(void *ctx)
{
        // get_size() - get_free_memory() would be the bytes the allocator has
        // handed out plus its headers, not what the segment has committed.
        // Pages of a shared mapping commit on first touch and are never given
        // back while it lives, so the resident pages are the peak commitment.
        boost_heap *h = static_cast<boost_heap *>(ctx);
        return bench_resident_bytes(h->segment.get_address(), h->segment.get_size());
}

} // namespace

extern "C" const struct bench_impl bench_boost_impl = {
        "boost.interprocess",
        "managed_shared_memory allocate/deallocate (rbtree best fit, interprocess mutex), "
        "no zero-fill",
        0,
        "resident pages",
        boost_create,
        boost_alloc,
        boost_free,
        boost_destroy,
        boost_peak_committed,
        nullptr,
};

extern "C" const char *bench_boost_compiler(void)
{
#if defined(__clang__)
        return "clang++ " __clang_version__;
#elif defined(__GNUC__)
        return "g++ " __VERSION__;
#else
        return "unknown C++ compiler";
#endif
}

extern "C" const char *bench_boost_version(void)
{
        return BOOST_LIB_VERSION;
}
