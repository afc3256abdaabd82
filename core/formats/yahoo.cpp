// SPDX-License-Identifier: MIT
// Yahoo and AOL: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseYahoo(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
