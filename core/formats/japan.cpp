// SPDX-License-Identifier: MIT
// Japanese carriers (au/EZweb, KDDI, NTT docomo, SoftBank): its own bounce text. Returns false (the generic reader
// takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseJapan(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
