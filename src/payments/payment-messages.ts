// What each explanation code tells the user, in zh-CN and en: a message (what is happening) and
// a next action (what, if anything, to do). The catalogues are typed by ExplanationCode, so a
// code without both translations does not compile. Parameters: {asset} {amount} {current}
// {required} {eta} {message} {ends_at} {reason}.
import { defineMessages, translate, type Locale } from '../shared/i18n.ts';
import type { ExplanationCode } from './payment-rules.ts';

export const EXPLANATION_MESSAGES = defineMessages<ExplanationCode>({
  deposit_pending: {
    en: 'We have seen your deposit on the network; it is waiting to be included in a block.',
    'zh-CN': '我们已在网络上看到您的充值,正在等待被打包进区块。',
  },
  deposit_confirming: {
    en: 'Your deposit is confirming: {current} of {required} confirmations.',
    'zh-CN': '您的充值正在确认中:已确认 {current}/{required}。',
  },
  deposit_credited: {
    en: 'Your deposit has been credited to your available balance.',
    'zh-CN': '您的充值已到账,计入可用余额。',
  },
  deposit_dropped: {
    en: 'The transaction was removed from the chain by a reorganisation and is no longer on it.',
    'zh-CN': '该交易因区块重组已从链上移除,目前不在链上。',
  },
  deposit_reversed: {
    en: 'A deep chain reorganisation undid this deposit after it was released; the credit was reversed.',
    'zh-CN': '该充值放行后发生了深度区块重组,入账已被冲正。',
  },
  deposit_refunded: {
    en: 'This deposit was sent back to the address you gave.',
    'zh-CN': '该充值已退回到您提供的地址。',
  },
  withdrawal_requested: {
    en: 'Your withdrawal is accepted and queued for sending.',
    'zh-CN': '您的提现已受理,正在排队发送。',
  },
  withdrawal_review: {
    en: 'Your withdrawal is being reviewed by our team.',
    'zh-CN': '您的提现正在由我们的团队审核。',
  },
  withdrawal_review_large_amount: {
    en: 'Your withdrawal is being reviewed by our team because of its size ({amount} {asset}); the money is reserved, not lost.',
    'zh-CN': '由于金额较大({amount} {asset}),您的提现正在由我们的团队审核;资金已冻结预留,不会丢失。',
  },
  withdrawal_review_new_account: {
    en: 'Your withdrawal is being reviewed by our team because your account is less than 24 hours old; the money is reserved, not lost.',
    'zh-CN': '由于您的账户注册不足 24 小时,您的提现正在由我们的团队审核;资金已冻结预留,不会丢失。',
  },
  withdrawal_review_new_address: {
    en: 'Your withdrawal is being reviewed by our team because it goes to a new address soon after your password or email changed; the money is reserved, not lost.',
    'zh-CN': '由于您在修改密码或邮箱后不久向新地址提现,该提现正在由我们的团队审核;资金已冻结预留,不会丢失。',
  },
  withdrawal_broadcast: {
    en: 'Your withdrawal has been sent to the network and is waiting for a block.',
    'zh-CN': '您的提现已广播到网络,正在等待出块。',
  },
  withdrawal_confirming: {
    en: 'Your withdrawal is confirming: {current} of {required} confirmations.',
    'zh-CN': '您的提现正在确认中:已确认 {current}/{required}。',
  },
  withdrawal_completed: {
    en: 'Your withdrawal is complete.',
    'zh-CN': '您的提现已完成。',
  },
  withdrawal_failed: {
    en: 'Your withdrawal failed; the amount and fee are back in your available balance.',
    'zh-CN': '您的提现失败,金额和手续费已退回可用余额。',
  },
  withdrawal_failed_invalid_address: {
    en: 'The destination address is not valid for this asset; nothing was sent.',
    'zh-CN': '目标地址对该资产无效,未发送任何资金。',
  },
  withdrawal_rejected: {
    en: 'Your withdrawal was declined after review: {reason}. Nothing was sent; the amount and fee are back in your available balance.',
    'zh-CN': '您的提现经审核未获通过:{reason}。未发送任何资金,金额和手续费已退回可用余额。',
  },
  withdrawal_cancelled: {
    en: 'The withdrawal was cancelled; the amount and fee are back in your available balance.',
    'zh-CN': '提现已取消,金额和手续费已退回可用余额。',
  },
  withdrawal_cancelled_account_blocked: {
    en: 'The withdrawal was stopped before anything was sent, because the account was frozen or restricted meanwhile; the amount and fee are back in your available balance.',
    'zh-CN': '由于账户在此期间被冻结或限制,提现在发出前已被终止,未发送任何资金;金额和手续费已退回可用余额。',
  },
  withdrawal_unknown: {
    en: 'The withdrawal was sent, but the network has not yet confirmed how it ended. Nothing is refunded or sent again until it is known; our staff are checking it.',
    'zh-CN': '提现已发出,但网络尚未确认其最终结果。在结果确认之前不会退款或重新发送;我们的工作人员正在核查。',
  },
  transfer_sent: {
    en: 'Transfer sent: the recipient has it.',
    'zh-CN': '转账已发送,收款人已收到。',
  },
  transfer_received: {
    en: 'Transfer received into your available balance.',
    'zh-CN': '已收到转账,计入可用余额。',
  },
  transfer_failed: {
    en: 'The transfer failed; nothing moved.',
    'zh-CN': '转账失败,资金未发生变动。',
  },
  invoice_payment_received: {
    en: 'Payment to the invoice received and credited.',
    'zh-CN': '账单付款已收到并入账。',
  },
  held_account_frozen: {
    en: 'The funds arrived and are safe, but they are held because the account is frozen.',
    'zh-CN': '资金已到达且安全,但因账户已冻结而被暂时保留。',
  },
  held_account_restricted: {
    en: 'The funds arrived and are safe, but they are held because the account is restricted.',
    'zh-CN': '资金已到达且安全,但因账户受限而被暂时保留。',
  },
  held_risk_review: {
    en: 'The funds are safe and held for a routine review.',
    'zh-CN': '资金安全,正在进行例行审核,暂时保留。',
  },
  held_maintenance: {
    en: 'The funds arrived and are safe; they will be released when maintenance ends ({message}).',
    'zh-CN': '资金已到达且安全,将在维护结束后自动放行({message})。',
  },
  held_below_minimum: {
    en: 'The amount is below the minimum deposit for {asset}; it is recorded and held, not lost.',
    'zh-CN': '金额低于 {asset} 的最低充值额,已记录并保留,不会丢失。',
  },
  held_amount_mismatch: {
    en: 'The amount received does not match what was expected; it is recorded and held, not lost.',
    'zh-CN': '收到的金额与预期不符,已记录并保留,不会丢失。',
  },
  held_unattributed: {
    en: 'The funds arrived but could not be matched to an account yet; they are held, not lost.',
    'zh-CN': '资金已到达,但暂时无法匹配到账户,已保留,不会丢失。',
  },
  held_kyc_limit: {
    en: 'The amount exceeds the limit of your verification level; it is held, not lost.',
    'zh-CN': '金额超出您当前认证等级的限额,已保留,不会丢失。',
  },
  released: {
    en: 'The hold was lifted and the funds released to the available balance.',
    'zh-CN': '保留已解除,资金已放行至可用余额。',
  },
});

export const NEXT_ACTIONS = defineMessages<ExplanationCode>({
  deposit_pending: { en: 'Nothing to do: it moves on by itself.', 'zh-CN': '无需操作,系统会自动处理。' },
  deposit_confirming: { en: 'Nothing to do: it is credited at {required} confirmations.', 'zh-CN': '无需操作,达到 {required} 个确认后自动到账。' },
  deposit_credited: { en: 'Nothing to do.', 'zh-CN': '无需操作。' },
  deposit_dropped: {
    en: 'Check the transaction in your wallet; if it was replaced or failed, send it again.',
    'zh-CN': '请在您的钱包中检查该交易;如已被替换或失败,请重新发送。',
  },
  deposit_reversed: { en: 'Contact support with this payment id.', 'zh-CN': '请携带此支付编号联系客服。' },
  deposit_refunded: { en: 'Nothing to do.', 'zh-CN': '无需操作。' },
  withdrawal_requested: { en: 'Nothing to do: it is sent shortly.', 'zh-CN': '无需操作,即将发送。' },
  withdrawal_review: { en: 'Nothing to do: we will tell you when the review ends.', 'zh-CN': '无需操作,审核结束后我们会通知您。' },
  withdrawal_broadcast: { en: 'Nothing to do: it confirms by itself.', 'zh-CN': '无需操作,将自动确认。' },
  withdrawal_confirming: { en: 'Nothing to do: it completes at {required} confirmations.', 'zh-CN': '无需操作,达到 {required} 个确认后完成。' },
  withdrawal_completed: { en: 'Nothing to do.', 'zh-CN': '无需操作。' },
  withdrawal_failed: { en: 'You may try again; contact support if it keeps failing.', 'zh-CN': '您可以重试;如持续失败请联系客服。' },
  withdrawal_review_large_amount: { en: 'Nothing to do: we will tell you when the review ends.', 'zh-CN': '无需操作,审核结束后我们会通知您。' },
  withdrawal_review_new_account: { en: 'Nothing to do: we will tell you when the review ends.', 'zh-CN': '无需操作,审核结束后我们会通知您。' },
  withdrawal_review_new_address: { en: 'Nothing to do: if you did not change your password or email, contact support now.', 'zh-CN': '无需操作;如果您没有修改过密码或邮箱,请立即联系客服。' },
  withdrawal_rejected: { en: 'Contact support if you have questions about this decision.', 'zh-CN': '如对此决定有疑问,请联系客服。' },
  withdrawal_failed_invalid_address: { en: 'Check the address and send a new withdrawal.', 'zh-CN': '请核对地址后重新提交提现。' },
  withdrawal_cancelled: { en: 'Nothing to do.', 'zh-CN': '无需操作。' },
  withdrawal_cancelled_account_blocked: {
    en: 'If you did not freeze your account, contact support now; once it can withdraw again, send a new withdrawal if you still want it.',
    'zh-CN': '如果账户不是您本人冻结的,请立即联系客服;账户恢复提现后,如仍需要,请重新提交提现。',
  },
  withdrawal_unknown: {
    en: 'Nothing to do: do not send the withdrawal again. It completes by itself once the network shows it, or our staff contact you.',
    'zh-CN': '无需操作:请不要重复提交提现。网络确认后它会自动完成,否则我们的工作人员会联系您。',
  },
  transfer_sent: { en: 'Nothing to do.', 'zh-CN': '无需操作。' },
  transfer_received: { en: 'Nothing to do.', 'zh-CN': '无需操作。' },
  transfer_failed: { en: 'Check the details and try again.', 'zh-CN': '请核对信息后重试。' },
  invoice_payment_received: { en: 'Nothing to do.', 'zh-CN': '无需操作。' },
  held_account_frozen: {
    en: 'Ask for the account to be unfrozen (POST /me/unfreeze-request); the funds are released automatically when it is.',
    'zh-CN': '请申请解冻账户(POST /me/unfreeze-request);解冻后资金将自动放行。',
  },
  held_account_restricted: {
    en: 'Contact support to lift the restriction; the funds are released automatically when it is.',
    'zh-CN': '请联系客服解除限制;解除后资金将自动放行。',
  },
  held_risk_review: { en: 'Nothing to do unless we contact you.', 'zh-CN': '无需操作,如有需要我们会联系您。' },
  held_maintenance: { en: 'Nothing to do: the release happens by itself at {ends_at}.', 'zh-CN': '无需操作,将于 {ends_at} 自动放行。' },
  held_below_minimum: { en: 'Contact support to recover amounts below the minimum.', 'zh-CN': '请联系客服找回低于最低额的资金。' },
  held_amount_mismatch: { en: 'Contact the merchant or support with this payment id.', 'zh-CN': '请携带此支付编号联系商户或客服。' },
  held_unattributed: { en: 'Contact support with the transaction hash.', 'zh-CN': '请携带交易哈希联系客服。' },
  held_kyc_limit: { en: 'Raise your verification level to release the funds.', 'zh-CN': '请提升认证等级以放行资金。' },
  released: { en: 'Nothing to do.', 'zh-CN': '无需操作。' },
});

export type MessageParams = Record<string, string | number>;

/** explain('deposit_confirming', 'zh-CN', { current: 2, required: 6 }) -> { message, next_action } */
export function explain(code: ExplanationCode, locale: Locale, params: MessageParams = {}): { message: string; next_action: string } {
  return { message: translate(EXPLANATION_MESSAGES, code, locale, params), next_action: translate(NEXT_ACTIONS, code, locale, params) };
}

// ------------------------------------------------------------------ diagnosis (POST /diagnose)
// Verdicts that come from the chain itself, when Settle has no payment for the caller to show.

export type DiagnosisCode = 'diagnosis_not_found' | 'diagnosis_chain_unreachable' | 'diagnosis_failed_on_chain' | 'diagnosis_not_ours' | 'diagnosis_other_account' | 'diagnosis_wrong_asset' | 'diagnosis_pending';

export const DIAGNOSIS_MESSAGES = defineMessages<DiagnosisCode>({
  diagnosis_not_found: { en: 'No network we support has a transaction with this hash.', 'zh-CN': '我们支持的网络上都没有该哈希对应的交易。' },
  diagnosis_chain_unreachable: { en: 'Settle has no record of this transaction and could not reach the network to check it.', 'zh-CN': 'Settle 没有该交易的记录,且暂时无法连接网络进行核查。' },
  diagnosis_failed_on_chain: { en: 'This transaction failed on the chain (reverted): no coins moved.', 'zh-CN': '该交易在链上执行失败(已回滚):没有任何资金转移。' },
  diagnosis_not_ours: { en: 'This transaction did not pay any Settle address.', 'zh-CN': '该交易没有支付到任何 Settle 地址。' },
  diagnosis_other_account: { en: 'This transaction paid an address that is not yours.', 'zh-CN': '该交易支付到的地址不属于您。' },
  diagnosis_wrong_asset: {
    en: 'This transaction sent a token Settle does not support ({token}) to your address. It is visible on the chain at your address but was not credited.',
    'zh-CN': '该交易向您的地址发送了 Settle 不支持的代币({token})。它在链上您的地址中可见,但未入账。',
  },
  diagnosis_pending: { en: 'This transaction is waiting to be included in a block.', 'zh-CN': '该交易正在等待被打包进区块。' },
});

export const DIAGNOSIS_NEXT_ACTIONS = defineMessages<DiagnosisCode>({
  diagnosis_not_found: { en: 'Check the hash and the network you sent on.', 'zh-CN': '请核对交易哈希与您使用的网络。' },
  diagnosis_chain_unreachable: { en: 'Try again in a few minutes.', 'zh-CN': '请几分钟后重试。' },
  diagnosis_failed_on_chain: { en: 'Check the transaction in your wallet and send it again.', 'zh-CN': '请在钱包中检查该交易并重新发送。' },
  diagnosis_not_ours: { en: 'Check the address you paid; Settle cannot move coins sent elsewhere.', 'zh-CN': '请核对您支付的地址;发送到其他地址的资金 Settle 无法处理。' },
  diagnosis_other_account: { en: 'Check the address you paid; if it should be yours, contact support.', 'zh-CN': '请核对您支付的地址;如该地址应属于您,请联系客服。' },
  diagnosis_wrong_asset: { en: 'Contact support with this transaction hash to ask about recovering it.', 'zh-CN': '请携带此交易哈希联系客服咨询找回事宜。' },
  diagnosis_pending: { en: 'Nothing to do: ask again once it is in a block.', 'zh-CN': '无需操作,打包进区块后可再次查询。' },
});

/** explainDiagnosis('diagnosis_not_ours', 'en') -> { message, next_action } */
export function explainDiagnosis(code: DiagnosisCode, locale: Locale, params: MessageParams = {}): { message: string; next_action: string } {
  return { message: translate(DIAGNOSIS_MESSAGES, code, locale, params), next_action: translate(DIAGNOSIS_NEXT_ACTIONS, code, locale, params) };
}
