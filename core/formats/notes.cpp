// SPDX-License-Identifier: MIT
// Lotus Notes / HCL Domino: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseNotes(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
