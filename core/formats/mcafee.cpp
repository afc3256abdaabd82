// SPDX-License-Identifier: MIT
// McAfee / MXLogic gateways: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseMcAfee(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
