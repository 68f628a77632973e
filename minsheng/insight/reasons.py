"""The reason shown with a red flag, in the reader's language, from its kind and figures."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def _band(code: str) -> str:
    labels = {"close": _("高度符合"), "acceptable": _("可接受"), "marginal": _("临界"), "nonconforming": _("不符合")}
    return labels.get(code, code)


def render(kind: str, figures: dict[str, Any]) -> str:
    f = dict(figures)
    texts = {
        "short_period": _("投标期仅 %(days)s 日，少于规定的 %(minimum)s 日。"),
        "single_bid": _("开标时仅有一家投标人（%(supplier)s），未形成竞争。"),
        "identical_prices": _("%(count)s 家投标人（%(suppliers)s）报价完全相同，均为 %(price)s 元。"),
        "close_to_winner": _("%(count)s 家未中标人的报价与中标价 %(winner)s 元相差不超过 %(limit)s%%，"
                             "最接近的为 %(nearest)s 元（相差 %(gap)s%%）。"),
        "late_bid_won": _("中标人（%(supplier)s）的投标晚于截止时间 %(minutes)s 分钟递交。"),
        "others_disqualified": _("除中标人（%(supplier)s）外，其余 %(count)s 家投标均被否决。"),
        "lowest_disqualified": _("采用最低价评标法，但报价最低的 %(supplier)s（%(price)s 元）被否决，"
                                 "中标价为 %(winner)s 元。"),
        "heavy_discount": _("%(count)s 家投标报价低于最高限价 %(cap)s 元的 %(limit)s%% 以上，最低报价 %(price)s 元"
                            "（下浮 %(discount)s%%）。"),
        "tampered_bid": _("%(supplier)s 的投标文件开标时与递交时的承诺摘要不一致，可能被篡改。"),
        "award_contract_change": _("合同金额 %(contract)s 元较中标金额 %(award)s 元变化 %(change)s%%，"
                                   "超过 %(limit)s%%。"),
        "change_orders": _("中标后已批准 %(count)s 项合同变更，累计 %(total)s 元，占合同金额 %(share)s%%。"),
        "split_near_threshold": _("合同金额 %(value)s 元为必须招标限额 %(threshold)s 元的 %(share)s%%，"
                                  "疑似为规避招标而拆分。"),
        "split_same_supplier": _("同一采购单位在 %(days)s 日内与 %(supplier)s 签订 %(count)s 份未经招标的合同"
                                 "（%(numbers)s），合计 %(total)s 元，达到必须招标限额 %(threshold)s 元。"),
        "split_sequential": _("同类采购的 %(count)s 份合同编号连续（%(numbers)s），合计 %(total)s 元，"
                              "达到必须招标限额 %(threshold)s 元。"),
        "duplicate_invoice_number": _("发票号码 %(invoice)s 已用于拨付申请 #%(first)s。"),
        "duplicate_invoice_same": _("与拨付申请 #%(first)s 的供应商、发票金额 %(amount)s 元和开票日期 %(date)s "
                                    "完全相同。"),
        "benford_department": _("%(n)s 笔支付金额的首位数字分布与本福特定律的平均绝对偏差为 %(mad)s（%(band)s）。"),
        "benford_supplier": _("%(n)s 笔收款金额的首位数字分布与本福特定律的平均绝对偏差为 %(mad)s（%(band)s）。"),
    }
    key = kind
    if kind == "duplicate_invoice":
        key = "duplicate_invoice_number" if f.get("by") == "number" else "duplicate_invoice_same"
    if "band" in f:
        f["band"] = _band(f["band"])
    text = texts.get(key)
    if text is None:
        return ""
    try:
        result = text % f
    except (KeyError, TypeError, ValueError):
        return text
    if kind == "heavy_discount" and f.get("winner"):
        result += _("其中包括中标人。")
    return result
