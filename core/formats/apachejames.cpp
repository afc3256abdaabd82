// SPDX-License-Identifier: MIT
// Apache James: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseApacheJames(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
