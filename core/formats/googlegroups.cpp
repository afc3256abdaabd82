// SPDX-License-Identifier: MIT
// Google Groups: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseGoogleGroups(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
