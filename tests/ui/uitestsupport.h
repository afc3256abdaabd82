// SPDX-License-Identifier: MIT
// What the window's tests share: the shipped classifier, a private copy of the bundled sample
// workspace, and waiting for an event table's page.
#pragma once

#include "classifier.h"
#include "knowledge.h"
#include "models/eventtablemodel.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace uitest
{

inline constexpr int kWaitMs = 15000;

inline std::shared_ptr<const bt::Classifier> classifier()
{
    static const auto c = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    return c;
}

/// A private copy of the sample workspace (tests may write to it).
struct SampleCopy {
    QTemporaryDir dir;
    QString path;
    SampleCopy()
    {
        path = dir.filePath(QStringLiteral("sample.btw"));
        EXPECT_TRUE(QFile::copy(QString::fromUtf8(BT_SAMPLE_WORKSPACE), path))
            << "build the sample-workspace target first: " << BT_SAMPLE_WORKSPACE;
    }
    std::string file() const { return QFile::encodeName(path).toStdString(); }
};

/// Waits until the model's snapshot reflects its current filter.
inline bool waitForSnapshot(EventTableModel* model)
{
    if (!model->isLoading())
        return true;
    QSignalSpy spy(model, &EventTableModel::countChanged);
    return spy.wait(kWaitMs) || !model->isLoading();
}

} // namespace uitest
