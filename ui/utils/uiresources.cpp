// SPDX-License-Identifier: MIT
#include "utils/uiresources.h"

#include <QtGlobal>

using namespace Qt::StringLiterals;

// Q_INIT_RESOURCE must be expanded outside any namespace.
static void initUiResources()
{
    Q_INIT_RESOURCE(ui);
}

namespace btui
{

void initResources()
{
    static const bool done = [] {
        initUiResources();
        return true;
    }();
    Q_UNUSED(done);
}

QString sampleBouncePath()
{
    return u":/sample/bounce-sample.eml"_s;
}

QString appIconPath()
{
    return u":/icons/bouncetriage.svg"_s;
}

QString projectVersion()
{
    return QStringLiteral(BT_VERSION);
}

} // namespace btui
