// SPDX-License-Identifier: MIT
// Gmail's own bounce text: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseGmail(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
