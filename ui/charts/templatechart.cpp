// SPDX-License-Identifier: MIT
#include "templatechart.h"

#include "utils/plaintext.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QCursor>
#include <QFontMetrics>
#include <QHorizontalBarSeries>
#include <QLegend>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>

using namespace Qt::StringLiterals;

TemplateChart::TemplateChart(QWidget* parent)
    : ChartView(parent)
{
    setObjectName(u"templateChart"_s);
}

void TemplateChart::setRows(const std::vector<bt::GroupRow>& allRows)
{
    m_allRows = allRows;
    rebuild();
}

void TemplateChart::fitToSize()
{
    if (!m_allRows.empty() && (categoriesThatFit(kMinBars) != m_fits || maxLabelWidth() != m_labelWidth))
        rebuild();
}

void TemplateChart::rebuild()
{
    QChart* c = chart();
    clearChart();
    m_rows.clear();
    m_fits = categoriesThatFit(kMinBars);
    m_labelWidth = maxLabelWidth();
    const int bars = std::min(kMaxBars, m_fits);
    for (const auto& r : m_allRows)
        if (r.bounces > 0 && r.templateId > 0 && static_cast<int>(m_rows.size()) < bars)
            m_rows.push_back(r);
    std::reverse(m_rows.begin(), m_rows.end());
    if (m_rows.empty()) {
        c->setTitle(tr("No reply templates in this selection"));
        applyPalette();
        return;
    }
    c->setTitle(tr("Top reply templates"));
    auto* series = new QHorizontalBarSeries;
    auto* set = new QBarSet(tr("bounces"));
    QStringList labels, tips;
    double max = 0;
    for (const auto& r : m_rows) {
        // labelAxis() shortens it to the room there is and keeps the labels distinct.
        labels.append(QString::fromStdString(r.key).simplified());
        tips.append(tr("%1\n%2 bounces").arg(QString::fromStdString(r.key)).arg(r.bounces));
        set->append(static_cast<double>(r.bounces));
        max = std::max(max, static_cast<double>(r.bounces));
    }
    set->setColor(palette().color(QPalette::Highlight));
    series->append(set);
    series->setBarWidth(0.7);
    c->addSeries(series);
    auto* axisY = labelAxis(labels, tips);
    auto* axisX = new QValueAxis;
    // The plot is what the widest bar label and the chart's margins leave of the width.
    const QFontMetrics fm(smallLabelFont());
    int widest = 0;
    for (const auto& l : labels)
        widest = std::max(widest, fm.horizontalAdvance(fm.elidedText(l, Qt::ElideRight, m_labelWidth)));
    setCountRange(axisX, max * 1.1, viewport()->width() - widest - 40);
    c->addAxis(axisY, Qt::AlignLeft);
    c->addAxis(axisX, Qt::AlignBottom);
    series->attachAxis(axisY);
    series->attachAxis(axisX);
    c->legend()->setVisible(false);

    connect(series, &QHorizontalBarSeries::clicked, this, [this](int index, QBarSet*) {
        if (index >= 0 && index < static_cast<int>(m_rows.size())) {
            const auto& r = m_rows[static_cast<std::size_t>(index)];
            Q_EMIT templateClicked(r.templateId, QString::fromStdString(r.key));
        }
    });
    connect(series, &QHorizontalBarSeries::hovered, this, [this](bool on, int index, QBarSet*) {
        if (!on || index < 0 || index >= static_cast<int>(m_rows.size())) {
            QToolTip::hideText();
            return;
        }
        const auto& r = m_rows[static_cast<std::size_t>(index)];
        QToolTip::showText(
            QCursor::pos(),
            btui::plainToolTip(
                tr("%1\n%2 bounces \u2014 click to see them").arg(QString::fromStdString(r.key)).arg(r.bounces)),
            this);
    });
    applyPalette();
}
