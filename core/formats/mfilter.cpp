// SPDX-License-Identifier: MIT
// m-FILTER: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseMFilter(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
