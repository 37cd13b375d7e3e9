// Large buffers touched once from end to end (the trace assembler's pending spans): asking for
// transparent huge pages where the kernel offers them on request ("madvise" mode) turns a page
// fault per 4 KiB into one per 2 MiB. A hint: without THP it does nothing.
#pragma once

#include <cstddef>

namespace cp {

void advise_huge_pages(const void* data, size_t bytes);

// The allocator kept from handing memory back and forth with the kernel (glibc): blocks up to 32 MiB
// come from the heap and are reused rather than mapped and unmapped each time, and a freed heap top
// is kept up to 256 MiB. The trace assembler's buffers otherwise cost a page fault per 4 KiB each
// time they grow again (about a tenth of reading a large file). Peak memory is unchanged.
void tune_allocator();

}  // namespace cp
