// Large buffers touched once from end to end (the trace assembler's pending spans): asking for
// transparent huge pages where the kernel offers them on request ("madvise" mode) turns a page
// fault per 4 KiB into one per 2 MiB. A hint: without THP it does nothing.
#pragma once

#include <cstddef>

namespace cp {

void advise_huge_pages(const void* data, size_t bytes);

}  // namespace cp
