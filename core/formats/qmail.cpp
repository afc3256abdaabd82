// SPDX-License-Identifier: MIT
// Qmail's own bounce text (no RFC 3464 part). Falls through to the generic reader until written.
#include "formats.h"

namespace bt::formats
{

bool parseQmail(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
