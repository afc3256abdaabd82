// SPDX-License-Identifier: MIT
// Verizon: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseVerizon(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
