// SPDX-License-Identifier: MIT
// Courier MTA: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseCourier(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
