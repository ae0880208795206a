// Problem details for people, per stable `code`: a title (RFC 9457: a short summary of the problem
// type, the same for every occurrence except for localization) in en and zh-CN, and a zh-CN
// detail for callers who read Chinese. The English `detail` of each occurrence is written where
// the problem is raised and says exactly what was wrong; a zh-CN caller gets this catalogue's
// detail for the code and the English original beside it (`detail_en`), for support.
// A code missing here still works: its title falls back to the HTTP status text.
import type { Locale } from './i18n.ts';

interface ProblemText {
  title: Record<Locale, string>;
  /** What happened and what to do, in Chinese, without the occurrence's specifics. */
  detail_zh: string;
}

const t = (en: string, zh: string, detail_zh: string): ProblemText => ({ title: { en, 'zh-CN': zh }, detail_zh });

export const PROBLEM_TEXTS: Readonly<Record<string, ProblemText>> = {
  // requests
  validation_failed: t('Invalid request', '请求无效', '请求中有字段不符合要求，详见 errors 列表。'),
  malformed_body: t('Malformed body', '请求体格式错误', '请求体不是有效的 JSON。'),
  malformed_url: t('Malformed URL', '网址格式错误', '网址无效，请检查其中的百分号编码。'),
  bad_request: t('Bad request', '请求错误', '请求无法处理，请检查后重试。'),
  body_too_large: t('Body too large', '请求体过大', '请求体超过了此接口允许的大小。'),
  unsupported_media_type: t('Unsupported media type', '不支持的内容类型', '请以此接口接受的 Content-Type 发送请求体。'),
  route_not_found: t('No such route', '接口不存在', '没有这个接口，请查看 /docs 中的 API 文档。'),
  not_found: t('Not found', '未找到', '没有这个编号的记录，或它不属于您。'),
  rate_limited: t('Too many requests', '请求过于频繁', '请求过于频繁，请按 Retry-After 头所示的秒数后重试。'),
  internal: t('Internal error', '服务器内部错误', '我们这边出了问题，已记录在案。请稍后重试，或把请求编号（x-request-id）告诉客服。'),
  metrics_token_required: t('Metrics token required', '需要监控令牌', '监控指标只对运维开放：请以 Bearer 令牌发送 SETTLE_METRICS_TOKEN 的值。'),
  unavailable: t('Temporarily unavailable', '暂时不可用', '此功能暂时不可用，请稍后重试。'),
  // idempotency
  idempotency_key_required: t('Idempotency-Key required', '缺少 Idempotency-Key', '这个请求会动用资金：请发送 Idempotency-Key 请求头（例如一个 UUID），以免重试时重复执行。'),
  idempotency_key_invalid: t('Invalid Idempotency-Key', 'Idempotency-Key 无效', 'Idempotency-Key 须为 1 到 255 个可见的 ASCII 字符。'),
  idempotency_key_reused: t('Idempotency-Key reused', 'Idempotency-Key 已被使用', '这个 Idempotency-Key 已用于另一个不同的请求。新的请求请使用新的键。'),
  idempotency_key_in_use: t('Request in progress', '请求处理中', '使用这个 Idempotency-Key 的请求仍在处理中，请稍后重试。'),
  // sign-in and security
  unauthenticated: t('Sign-in required', '需要登录', '请先登录：发送会话令牌或 API 密钥。'),
  invalid_credentials: t('Wrong email or password', '邮箱或密码错误', '邮箱或密码不正确。'),
  too_many_attempts: t('Too many attempts', '尝试次数过多', '尝试次数过多（登录失败或注册过于频繁），请按 Retry-After 头所示的秒数后再试。'),
  totp_required: t('Authenticator code required', '需要动态验证码', '请输入身份验证器应用中的 6 位验证码，或一个恢复码。'),
  invalid_totp: t('Wrong code', '验证码错误', '验证码不正确或已使用过。验证码每 30 秒更新一次。'),
  totp_setup_required: t('Set up two-factor first', '请先设置双重验证', '请先调用 POST /me/totp/setup。'),
  totp_not_enabled: t('Two-factor is off', '未开启双重验证', '您的账户尚未开启双重验证。'),
  step_up_required: t('Confirm it is you', '请先确认身份', '此操作需要再次确认身份：请先调用 POST /api/v1/auth/step-up。'),
  step_up_failed: t('Confirmation failed', '身份确认失败', '未能确认是您本人，请检查密码或验证码。'),
  not_acceptable: t('Not acceptable', '不支持的格式', '此接口只返回 text/event-stream：请用 EventSource 打开（Accept: text/event-stream）。'),
  csrf_failed: t('Missing CSRF token', '缺少 CSRF 令牌', '使用 Cookie 登录的修改类请求必须带上登录时获得的 CSRF 令牌请求头。'),
  session_required: t('Signed-in session required', '需要登录会话', '此操作会转出资金，只能在登录会话中进行，不能使用 API 密钥。'),
  forbidden: t('Not allowed', '无权操作', '您没有执行此操作的权限。'),
  insufficient_scope: t('API key scope too narrow', 'API 密钥权限不足', '此 API 密钥缺少所需的权限范围。'),
  invalid_email: t('Invalid email', '邮箱无效', '这不是一个可用的邮箱地址。'),
  weak_password: t('Password too weak', '密码强度不足', '密码太短、太常见或已在泄露记录中出现，请换一个更长、独特的密码。'),
  email_taken: t('Email in use', '邮箱已被使用', '另一个账户已经使用了这个邮箱。'),
  invalid_code: t('Wrong code', '确认码错误', '确认码不正确、已过期或已尝试过多次。请通过 POST /me/email/verification 获取新的确认码。'),
  email_already_verified: t('Email already confirmed', '邮箱已确认', '您的邮箱地址已经确认过了。'),
  link_expired: t('Link expired', '链接已失效', '此链接已使用或已过期。请登录后使用“冻结我的账户”。'),
  rotation_conflict: t('Rotated concurrently', '密钥已被同时轮换', '密钥刚被另一个请求同时轮换；如需一个您看过的密钥，请再轮换一次。'),
  // account states
  account_frozen: t('Account frozen', '账户已冻结', '您的账户已冻结，提现等操作暂停。可通过 POST /me/unfreeze-request 申请解冻，申请会列出需要完成的步骤。'),
  account_restricted: t('Account restricted', '账户受限', '您的账户受到限制，暂时不能提现。'),
  account_closed: t('Account closed', '账户已关闭', '已关闭的账户不能进行此操作。'),
  cooldown: t('Withdrawals paused after an unfreeze', '解冻后暂停提现', '账户解冻后的冷静期内不能提现（站内转账不受影响），冷静期结束后即可提现。'),
  not_frozen: t('Account not frozen', '账户未冻结', '您的账户没有被冻结。'),
  invalid_account_state: t('Not possible in this account state', '当前账户状态不允许此操作', '账户当前的状态不允许这样更改。'),
  unfreeze_requirements_unmet: t('Unfreeze steps not done', '解冻步骤未完成', '用户还没有完成解冻所需的全部步骤。'),
  already_approved: t('Already approved by you', '您已批准过', '您已经批准过此请求，下一次批准须由另一位工作人员进行。'),
  own_account: t('Own account', '不能处理自己的账户', '工作人员不能批准自己的解冻申请。'),
  target_outranks_actor: t('Role too high', '对方角色级别过高', '只有管理员可以对角色级别不低于您的账户执行此操作。'),
  imposer_outranks_actor: t('Imposed by a higher role', '由更高级别的角色施加', '这项限制或冻结是由级别更高的工作人员施加的，只有同级或更高级别的工作人员才能解除。'),
  staff_2fa_required: t('Staff need two-factor authentication', '工作人员须开启双重验证', '工作人员账户须先开启双重验证（POST /me/totp/setup 与 POST /me/totp/enable），才能使用工作人员功能。'),
  request_closed: t('Request closed', '申请已结束', '此申请已经处理完毕。'),
  // KYC documents
  unsupported_document_type: t('Unsupported document type', '不支持的文件类型', '请上传 JPEG、PNG 或 WebP 图片或 PDF（按文件内容判断，而不是文件名）。'),
  empty_document: t('Empty document', '文件为空', '上传的文件是空的。'),
  // money
  unknown_asset: t('Unknown asset', '未知币种', '平台没有配置这个币种。'),
  unknown_chain: t('Unknown chain', '未知的链', '平台没有配置这条链。'),
  amount_below_minimum: t('Amount below the minimum', '低于最低提币金额', '提币金额低于该币种的最低提币金额（见 /assets 的 min_withdrawal），请提高金额后重试。'),
  invalid_amount: t('Invalid amount', '金额无效', '金额无效：须为正数，且小数位不超过该币种的精度。'),
  invalid_address: t('Invalid address', '地址无效', '收款地址无效，请核对后重试。'),
  insufficient_funds: t('Insufficient funds', '余额不足', '您的可用余额不足以支付金额和手续费。'),
  limit_exceeded: t('Limit exceeded', '超出限额', '此操作会超出您当前认证等级的限额。提升认证等级可提高限额。'),
  recipient_not_found: t('Recipient not found', '收款人不存在', '没有可以在这个邮箱地址接收转账的账户：对方可能尚未注册，或尚未确认这个邮箱地址。请核对地址，并请收款人注册、确认邮箱后再转账。'),
  recipient_is_sender: t('Recipient is you', '不能转给自己', '收款人不能是您自己。'),
  maintenance: t('Under maintenance', '维护中', '平台或这条链正在维护，此操作暂停，维护结束后即可进行。'),
  chain_unavailable: t('Chain unavailable', '区块链暂时无法访问', '暂时无法连接区块链，请稍后重试。'),
  own_withdrawal: t('Own withdrawal', '不能审核自己的提现', '工作人员不能审核自己的提现。'),
  review_closed: t('Review closed', '审核已结束', '这笔提现不在等待审核的状态。'),
  // merchants, invoices, webhooks
  merchant_required: t('Merchant account required', '需要商户账户', '发票仅供商户使用：请先创建一个 API 密钥（这会让您成为商户）。'),
  invoice_final: t('Invoice closed', '发票已结束', '这张发票已处于最终状态，不能再更改。'),
  refund_exceeds_paid: t('Refund exceeds payment', '退款超过已付金额', '退款金额不能超过这张发票实际收到的金额（减去已退部分）。'),
  refunds_unavailable: t('Refunds unavailable', '退款不可用', '此部署未配置提现模块，无法退款。'),
  invalid_webhook_url: t('Invalid webhook URL', 'Webhook 地址无效', 'Webhook 地址必须是公网上的 https 地址，且不能包含用户名或密码。'),
  too_many_endpoints: t('Too many webhook endpoints', 'Webhook 端点过多', '您的 Webhook 端点已达上限，请先删除一个。'),
  // support channels and the business calendar
  invalid_support_calendar: t('Invalid business calendar', '工作日历无效', '工作日历无效：时区须为 IANA 时区（如 Asia/Shanghai），每天的时段须为 "HH:MM" 且结束晚于开始、互不重叠，节假日须为 YYYY-MM-DD，且每周至少有一段营业时间。'),
  // P2P trades
  not_your_move: t('Not your move', '不是您的操作', '这一步应由订单的另一方操作。'),
  order_not_open: t('Order not open', '订单已结束或不可操作', '订单当前的状态不允许这一步操作。'),
  payment_window_elapsed: t('Payment window ended', '付款时限已过', '付款时限已过，订单将自动取消，币已退回广告。'),
  appeal_not_open: t('Appeal not open yet', '暂不能申诉', '买家标记已付款后卖家可随时申诉；买家须等到放币时限结束后才能申诉。'),
  order_not_in_appeal: t('Order not in appeal', '订单不在申诉中', '只有申诉中的订单可以由客服裁决。'),
  ad_unavailable: t('Ad unavailable', '广告暂不可用', '这个广告暂时不接受下单，请选择其他广告。'),
  ad_insufficient_amount: t('Not enough left on the ad', '广告剩余数量不足', '广告剩余的数量不够这笔订单，可能已被其他买家抢先下单。请减少数量或选择其他广告。'),
  amount_out_of_limits: t('Amount outside the ad’s limits', '数量超出广告限额', '下单数量须在广告的单笔最小和最大限额之间。'),
  own_ad: t('Your own ad', '不能与自己交易', '不能对自己发布的广告下单。'),
  p2p_restricted: t('P2P buying paused', 'P2P 购买已暂停', '由于 30 天内累计 3 次违规（付款后取消或虚假标记付款），您的 P2P 购买功能暂停 7 天。'),
  unknown_fiat: t('Unknown fiat currency', '不支持的法币', '广告只能使用平台配置的法币。'),
  invalid_price: t('Invalid price', '价格无效', '价格须为大于零、最多 8 位小数的数字。'),
  invalid_limits: t('Invalid limits', '限额无效', '单笔限额须满足 0 < 最小额 ≤ 最大额。'),
  ad_closed: t('Ad closed', '广告已关闭', '已关闭的广告不能再开启，请发布新广告。'),
  invalid_cursor: t('Invalid cursor', '分页游标无效', '请使用列表返回的 next_cursor。'),
  // operations (staff)
  already_acknowledged: t('Already acknowledged', '已确认', '此事件已经被确认过。'),
  window_scope_invalid: t('Invalid window scope', '维护范围无效', '维护范围须为 "global" 或 "chain:<链编号>"。'),
  window_unknown_chain: t('Unknown chain', '未知的链', '没有配置这个编号的链。'),
  window_ends_before_start: t('Window ends before it starts', '结束时间早于开始时间', '维护结束时间必须晚于开始时间。'),
  window_ends_in_past: t('Window already over', '结束时间已过', '维护结束时间已经过去。'),
  window_too_long: t('Window too long', '维护时间过长', '一个维护时段最长 7 天，如有需要请再安排一个。'),
  invalid_tx_hash: t('Invalid transaction hash', '交易哈希无效', '交易哈希应为 0x 加 64 位十六进制数字。'),
  no_hot_wallet: t('No hot wallet', '没有热钱包', '这条链没有配置热钱包。'),
  own_transaction: t('Platform transaction', '平台自身的交易', '这是平台自己的交易（归集或提现），已由其自身流程记账。'),
  from_own_address: t('From a platform address', '来自平台地址', '这笔交易来自平台自己的收款地址，这些币本来就在托管中。'),
  not_deep_enough: t('Not enough confirmations', '确认数不足', '这笔交易的确认数还不够，请稍后再记账。'),
  nothing_to_hot_wallet: t('Nothing to the hot wallet', '没有转入热钱包', '这笔交易没有向热钱包转入任何资产。'),
  failed_on_chain: t('Failed on chain', '链上执行失败', '这笔交易在链上执行失败，没有转移任何资产。'),
  // risk (issue 14)
  rule_invalid: t('Invalid risk rule', '风控规则无效', '有一条规则无效（表达式、事实、函数、编号、事件或动作有误）：详见 rule_id 与 errors，规则集未作任何更改。'),
  rules_changed: t('Rules changed meanwhile', '规则已被同时修改', '另一次规则修改刚刚保存：请重新读取规则后再试。'),
  backtest_span_too_long: t('Backtest span too long', '回测时间范围过长', '一次回测最多覆盖 366 天。'),
  risk_blocked: t('Refused by risk controls', '已被风控拒绝', '出于安全原因，此操作未被执行。如您认为有误，请联系客服。'),
  address_blocked: t('Address blocked', '地址已被禁止', '不能向这个地址提现：它在平台的禁止名单上。如您认为有误，请联系客服。'),
  // support desk
  case_closed: t('Case closed', '工单已关闭', '这个工单已关闭或已合并到另一个工单；如需继续，请新建工单。'),
  case_transition_invalid: t('Status change not allowed', '不能改为该状态', '工单不能从当前状态改为所要求的状态。'),
  assignee_not_staff: t('Not a staff member', '不是客服人员', '工单只能分配给客服、风控或管理员。'),
  merge_invalid: t('Cannot merge', '无法合并', '工单不能合并到自身，也不能合并已关闭或已合并的工单。'),
  merge_different_customer: t('Different customers', '不同客户的工单', '不同客户的工单不能合并。'),
  attachment_invalid: t('Attachment not usable', '附件不可用', '附件必须是您自己上传、且尚未用于其他工单的文件。'),
  attachment_too_large: t('Attachment too large', '附件过大', '附件超过了允许的大小。'),
  attachment_type_refused: t('File type not accepted', '不接受的文件类型', '只接受图片（PNG、JPEG、GIF、WebP）、PDF 和纯文本文件；类型按文件内容判断。'),
  case_not_resolved: t('Case not resolved', '工单尚未解决', '工单解决后才能评价。'),
  case_already_rated: t('Already rated', '已评价', '这个工单已经评价过了。'),
  action_invalid: t('Action not possible', '无法执行该操作', '这个工单不能执行该操作，请查看说明。'),
  action_not_pending: t('Action already decided', '操作已处理', '这个操作已经被批准或拒绝。'),
  four_eyes_same_staff: t('Second approver needed', '需要另一位审批人', '发起操作的人不能自己批准，需要另一位工作人员。'),
  calendar_invalid: t('Invalid calendar', '工作日历无效', '时区、工作时间或节假日格式不正确。'),
  // notifications, announcements, status (issue 14)
  preference_locked: t('Preference locked', '此通知不能关闭', '安全通知（security.*）总会通过站内和邮件发送给您，不能关闭；请求中的其他设置也未更改。'),
  unknown_notification_kind: t('Unknown notification kind', '未知的通知类型', '没有这种通知类型，请使用文档中列出的类型；设置未更改。'),
  announcement_text_missing: t('Both languages needed', '需要两种语言', '公告的标题和正文都必须同时提供英文和中文，且不能为空。'),
  announcement_text_too_long: t('Announcement too long', '公告过长', '标题最多 200 个字符，正文最多 4000 个字符。'),
  announcement_ends_before_start: t('Ends before it starts', '结束时间早于开始时间', '公告的结束时间必须晚于开始时间。'),
  announcement_ends_in_past: t('Already over', '结束时间已过', '公告的结束时间已经过去。'),
  announcement_too_long: t('Announcement lasts too long', '公告持续时间过长', '一条公告最长持续 90 天；如需一直显示，请不填结束时间，之后手动结束。'),
  announcement_scope_invalid: t('Invalid scope', '范围无效', '范围须为 "global" 或 "chain:<链编号>"。'),
  announcement_unknown_chain: t('Unknown chain', '未知的链', '没有配置这个编号的链。'),
};

const STATUS_TITLES: Record<Locale, Record<number, string>> = {
  en: {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    406: 'Not Acceptable',
    409: 'Conflict',
    413: 'Content Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Content',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    501: 'Not Implemented',
    503: 'Service Unavailable',
  },
  'zh-CN': {
    400: '请求错误',
    401: '未认证',
    403: '禁止访问',
    404: '未找到',
    405: '方法不允许',
    406: '无法接受',
    409: '冲突',
    413: '内容过大',
    415: '不支持的内容类型',
    422: '无法处理的内容',
    429: '请求过多',
    500: '服务器内部错误',
    501: '未实现',
    503: '服务不可用',
  },
};

/** problemTitle('insufficient_funds', 422, 'zh-CN') -> '余额不足' */
export function problemTitle(code: string, status: number, locale: Locale): string {
  return PROBLEM_TEXTS[code]?.title[locale] ?? STATUS_TITLES[locale][status] ?? (locale === 'zh-CN' ? '错误' : 'Error');
}

/** The zh-CN detail of a code, or null when the catalogue has none (the English detail is kept). */
export function problemDetailZh(code: string): string | null {
  return PROBLEM_TEXTS[code]?.detail_zh ?? null;
}
