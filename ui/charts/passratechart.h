// SPDX-License-Identifier: MIT
#pragma once

#include "charts/chartview.h"
#include "dmarcsources.h"

#include <QStringList>

#include <vector>

/// DMARC pass rate per day (a line over the days a report counts messages, left axis, percent)
/// with the auth-family bounces of the same days (bars, right axis), on one day axis: a fall in
/// the line on the days the bars rise is the receivers' side of the same story.
class PassRateChart : public ChartView
{
    Q_OBJECT
public:
    explicit PassRateChart(QWidget* parent = nullptr);

    /// `days` oldest first (bt::SourceReport::days or a source's days); `title` says whose.
    void setDays(std::vector<bt::DmarcDay> days, const QString& title);
    /// The axis labels shown: for tests.
    QStringList axisLabels() const { return m_axisLabels; }

protected:
    void fitToSize() override;
    void changeEvent(QEvent* event) override;

private:
    void rebuild();
    int labelsThatFit() const;

    std::vector<bt::DmarcDay> m_days;
    QString m_title;
    QStringList m_axisLabels;
    int m_labels = 0;
    bool m_low = false; ///< too low for six rate labels
};
