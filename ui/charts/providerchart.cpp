// SPDX-License-Identifier: MIT
#include "providerchart.h"

#include "fields.h"
#include "models/grouptablemodel.h"
#include "utils/familycolors.h"
#include "utils/plaintext.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QCursor>
#include <QHorizontalStackedBarSeries>
#include <QLegend>
#include <QLineSeries>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

ProviderChart::ProviderChart(QWidget* parent)
    : ChartView(parent)
{
    setObjectName(u"providerChart"_s);
}

QBarSet* ProviderChart::barSet(const QString& family) const
{
    if (!m_series)
        return nullptr;
    const auto sets = m_series->barSets();
    for (QBarSet* s : sets)
        if (s->label() == family)
            return s;
    return nullptr;
}

void ProviderChart::setRows(const std::vector<bt::GroupRow>& allRows, const QString& what)
{
    m_allRows = allRows;
    m_what = what;
    rebuild();
}

void ProviderChart::fitToSize()
{
    if (!m_allRows.empty() && (categoriesThatFit(kMinBars) != m_fits || maxLabelWidth() != m_labelWidth))
        rebuild();
}

void ProviderChart::rebuild()
{
    QChart* c = chart();
    clearChart();
    m_series = nullptr;
    m_rows.clear();
    m_families.clear();
    m_fits = categoriesThatFit(kMinBars);
    m_labelWidth = maxLabelWidth();
    const int bars = std::min(kMaxBars, m_fits);
    int withBounces = 0;
    // Events whose provider no table or MX names are not a provider: never ranked among them,
    // they take the bottom bar, named for what they are.
    const auto unknown = std::find_if(m_allRows.begin(), m_allRows.end(),
                                      [](const bt::GroupRow& r) { return r.key == kUnknownKey && r.bounces > 0; });
    const int ranked = bars - (unknown != m_allRows.end() ? 1 : 0);
    for (const auto& r : m_allRows) {
        if (r.bounces <= 0)
            continue;
        ++withBounces;
        if (r.key != kUnknownKey && static_cast<int>(m_rows.size()) < ranked)
            m_rows.push_back(r);
    }
    if (unknown != m_allRows.end())
        m_rows.push_back(*unknown);
    // Horizontal bars read top-down: the category axis runs bottom-up, so add the largest last.
    std::reverse(m_rows.begin(), m_rows.end());
    m_providers.clear();
    const QString& what = m_what;
    if (m_rows.empty()) {
        c->setTitle(tr("No %1 in this selection").arg(what));
        applyPalette();
        return;
    }
    // Each bar on its provider's own basis: of sent where its sends are known (from sources that
    // record deliveries, or counts the user gave), else its share of the bounces.
    const auto rated = [](const bt::GroupRow& r) { return r.rateBasis != "share"; };
    const bool sent = std::any_of(m_rows.begin(), m_rows.end(), rated);
    const bool shares = !std::all_of(m_rows.begin(), m_rows.end(), rated);
    // The title says what is counted, against what, and when only the largest providers have
    // room; where the chart is too narrow for all of it the short form stays and the view's
    // tooltip has the whole.
    const QString basis = !shares ? tr("% of messages sent")
        : sent                    ? tr("% of sent where sends are known, else share of bounces")
                                  : tr("% of all bounces, no sends known");
    const QString shown = withBounces > static_cast<int>(m_rows.size())
        ? tr("top %1 of %2").arg(m_rows.size()).arg(withBounces)
        : QString();
    const QString full = tr("%1 by %2 \u2014 %3").arg(what, groupWord(), basis)
        + (shown.isEmpty() ? QString() : u" ("_s + shown + u')');
    const QString per = !shares ? tr("% of sent") : sent ? tr("rate or share") : tr("% of bounces");
    const QFontMetrics titleMetrics(c->titleFont());
    QString title = what;
    for (const QString& t : {full, tr("%1 by %2, %3").arg(what, groupWord(), per), tr("%1, %2").arg(what, per)}) {
        if (titleMetrics.horizontalAdvance(t) + 24 <= viewport()->width()) {
            title = t;
            break;
        }
    }
    c->setTitle(title);
    setToolTip(full);

    m_series = new QHorizontalStackedBarSeries;
    QStringList categories, tips;
    double maxRate = 0;
    const QFontMetrics labelMetrics(smallLabelFont());
    for (const auto& r : m_rows) {
        // The level stays whole; the name gives way when the two do not fit.
        // A rated bar ends with its level, a share (mixed with rates) says it is one.
        const QString level = rated(r) ? u"  "_s + QString::fromStdString(r.level) : sent ? tr("  share") : QString();
        QString label
            = labelMetrics.elidedText(r.key == kUnknownKey ? unknownLabel(false) : QString::fromStdString(r.key),
                                      Qt::ElideRight, maxLabelWidth() - labelMetrics.horizontalAdvance(level))
            + level;
        categories.append(label);
        // The label's tooltip: the whole name and the bar's numbers.
        QString tip = tr("%1\n%2 bounces counted here, %3")
                          .arg(r.key == kUnknownKey ? unknownLabel(true) : QString::fromStdString(r.key))
                          .arg(r.bounces)
                          .arg(btui::rateText(r));
        tip += u'\n' + btui::basisText(r);
        if (rated(r))
            tip += tr("\n%1 deliveries; level %2").arg(r.deliveries).arg(btui::levelText(r.level));
        tips.append(tip);
        m_providers.prepend(QString::fromStdString(r.key));
        maxRate = std::max(maxRate, r.rate * 100.0);
    }
    for (const QString& family : btui::families()) {
        const std::string f = family.toStdString();
        bool any = false;
        QList<qreal> values;
        for (const auto& r : m_rows) {
            const auto it = r.families.find(f);
            const double n = it == r.families.end() ? 0.0 : static_cast<double>(it->second);
            any = any || n > 0;
            values.append(r.bounces ? r.rate * 100.0 * n / static_cast<double>(r.bounces) : 0.0);
        }
        if (!any)
            continue;
        m_families.append(family);
        auto* set = new QBarSet(family);
        set->append(values);
        set->setColor(btui::familyColor(family));
        set->setBorderColor(btui::familyColor(family).darker(120));
        m_series->append(set);
    }
    m_series->setBarWidth(0.7);
    c->addSeries(m_series);

    auto* axisY = labelAxis(categories, tips);
    auto* axisX = new QValueAxis;
    axisX->setLabelFormat(u"%.1f %%"_s);
    const double top = sent ? std::max(maxRate, 3.5) * 1.08 : maxRate * 1.08;
    // As many value labels as the width holds ("100.0 %" needs ~60 px): at ~900 px they overprinted.
    const QFontMetrics fm(axisX->labelsFont());
    axisX->setTickCount(std::clamp(viewport()->width() / (fm.horizontalAdvance(u"100.0 %"_s) + 40), 2, 6));
    axisX->setRange(0, top > 0 ? top : 1);
    axisX->applyNiceNumbers();
    // A rate or share never passes 100 %: nice numbers would stretch the axis to 150 %. Ticks
    // at round steps of the 0-100 range (0, 20, 40… or 0, 25, 50…; never 33.3).
    if (maxRate <= 100.0 && axisX->max() > 100.0) {
        const int ticks = axisX->tickCount();
        axisX->setRange(0, 100.0);
        axisX->setTickCount(ticks >= 6 ? 6 : ticks >= 5 ? 5 : ticks >= 3 ? 3 : 2);
    }
    c->addAxis(axisY, Qt::AlignLeft);
    c->addAxis(axisX, Qt::AlignBottom);
    m_series->attachAxis(axisY);
    m_series->attachAxis(axisX);

    if (sent) {
        // The thresholds of vocabulary.md: watch from 1 %, act above 3 %.
        const auto threshold = [&](double at, const QColor& color, const QString& name) {
            auto* line = new QLineSeries;
            line->setName(name);
            line->append(at, -0.5);
            line->append(at, static_cast<double>(m_rows.size()) - 0.5);
            QPen pen(color, 1.5, Qt::DashLine);
            line->setPen(pen);
            c->addSeries(line);
            line->attachAxis(axisX);
            line->attachAxis(axisY);
        };
        threshold(1.0, QColor(0xd9, 0x8c, 0x00), tr("1 %"));
        threshold(3.0, QColor(0xc0, 0x1c, 0x28), tr("3 %"));
    }

    connect(m_series, &QHorizontalStackedBarSeries::clicked, this, [this](int index, QBarSet* set) {
        if (index < 0 || index >= static_cast<int>(m_rows.size()))
            return;
        Q_EMIT barClicked(QString::fromStdString(m_rows[static_cast<std::size_t>(index)].key),
                          set ? set->label() : QString());
    });
    connect(m_series, &QHorizontalStackedBarSeries::hovered, this, [this](bool on, int index, QBarSet* set) {
        if (!on || index < 0 || index >= static_cast<int>(m_rows.size()) || !set) {
            QToolTip::hideText();
            return;
        }
        const auto& r = m_rows[static_cast<std::size_t>(index)];
        const auto it = r.families.find(set->label().toStdString());
        const auto n = it == r.families.end() ? 0 : it->second;
        QString text = tr("%1 \u2014 %2\n%3 of %4 bounces counted here, %5")
                           .arg(r.key == kUnknownKey ? unknownLabel(true) : QString::fromStdString(r.key), set->label())
                           .arg(n)
                           .arg(r.bounces)
                           .arg(btui::rateText(r));
        text += u'\n' + btui::basisText(r);
        if (r.rateBasis != "share")
            text += tr("\n%1 deliveries; level %2").arg(r.deliveries).arg(btui::levelText(r.level));
        text += tr("\nClick to drill down");
        QToolTip::showText(QCursor::pos(), btui::plainToolTip(text), this);
    });
    // The families are named in the legend beside the charts (TriageView): inside a third of
    // the window, ten of them were colour squares with "…".
    c->legend()->setVisible(false);
    applyPalette();
}

QString ProviderChart::groupWord() const
{
    // The field's own word ("recipient domain", "sending IP", "From domain"), not the header's.
    if (m_by == bt::GroupBy::Day)
        return tr("day");
    const auto label = bt::fieldOf(m_by).label;
    return QString::fromUtf8(label.data(), static_cast<qsizetype>(label.size()));
}

QString ProviderChart::unknownLabel(bool longForm) const
{
    if (m_by == bt::GroupBy::Provider)
        return longForm ? tr("unknown provider (no table or MX names it)") : tr("unknown provider");
    return QString::fromUtf8(bt::unknownGroupLabel(m_by));
}
