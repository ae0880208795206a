// Words the accounts module sends to people (in-app notifications and mail), zh-CN and en.
import { defineMessages } from '../shared/i18n.ts';

export const noticeMessages = defineMessages({
  new_device_title: { en: 'New sign-in to your Settle account', 'zh-CN': '您的 Settle 账户有新的登录' },
  new_device_body: {
    en: 'Someone signed in to your account from a device or network we have not seen before: {device}, network {network}, at {at}.\nIf this was you, you can ignore this message.\nIf it was not you, open this link and confirm to freeze your account (nothing can leave it while it is frozen):\n{link}',
    'zh-CN': '您的账户在一个新的设备或网络上登录:{device},网络 {network},时间 {at}。\n如果是您本人操作,请忽略此消息。\n如果不是您本人,请打开以下链接并确认冻结账户(冻结期间资金无法转出):\n{link}',
  },
  frozen_title: { en: 'Your account is frozen', 'zh-CN': '您的账户已被冻结' },
  frozen_body: { en: '{message}\nWhat to do:\n{steps}', 'zh-CN': '{message}\n您需要:\n{steps}' },
  unfrozen_title: { en: 'Your account is unfrozen', 'zh-CN': '您的账户已解冻' },
  unfrozen_body: {
    en: 'Your account is active again. For your safety, withdrawals stay blocked until {until}; internal transfers work now.',
    'zh-CN': '您的账户已恢复正常。为了您的安全,在 {until} 之前不能提现;站内转账现在即可使用。',
  },
  restricted_title: { en: 'Your account is restricted', 'zh-CN': '您的账户已被限制' },
  restricted_body: {
    en: 'Your account can receive funds but cannot send, withdraw or trade for now. Reason given: {reason}. Contact support if you have questions.',
    'zh-CN': '您的账户目前可以收款,但不能转出、提现或交易。原因:{reason}。如有疑问请联系客服。',
  },
  password_changed_title: { en: 'Your password was changed', 'zh-CN': '您的密码已修改' },
  password_changed_body: {
    en: 'The password of your account was changed at {at}, and your other sessions were ended. If this was not you, freeze your account and contact support.',
    'zh-CN': '您的账户密码已于 {at} 修改,其他登录会话已全部退出。如果不是您本人操作,请立即冻结账户并联系客服。',
  },
  email_changed_title: { en: 'The email of your Settle account was changed', 'zh-CN': '您的 Settle 账户邮箱已修改' },
  email_changed_body: {
    en: 'The sign-in email of your account was changed to {email} at {at}. If this was not you, contact support at once.',
    'zh-CN': '您账户的登录邮箱已于 {at} 修改为 {email}。如果不是您本人操作,请立即联系客服。',
  },
  totp_enabled_title: { en: 'Two-factor authentication is on', 'zh-CN': '双重验证已开启' },
  totp_enabled_body: { en: 'Two-factor authentication was turned on (or re-bound) at {at}. Keep your recovery codes somewhere safe.', 'zh-CN': '双重验证已于 {at} 开启(或重新绑定)。请妥善保存恢复码。' },
  totp_disabled_title: { en: 'Two-factor authentication is off', 'zh-CN': '双重验证已关闭' },
  totp_disabled_body: { en: 'Two-factor authentication was turned off at {at}. If this was not you, freeze your account now.', 'zh-CN': '双重验证已于 {at} 关闭。如果不是您本人操作,请立即冻结账户。' },
  register_attempt_title: { en: 'Someone tried to register with your email', 'zh-CN': '有人尝试用您的邮箱注册' },
  register_attempt_body: {
    en: 'At {at}, someone tried to create a new Settle account with this email address. It already belongs to your account, so nothing was created and nothing was changed.\nIf it was you: sign in with your existing account at {sign_in} (if you have forgotten the password, contact support to reset it).\nIf it was not you, you can ignore this message: your account is safe. Turning on two-factor authentication makes it safer still.',
    'zh-CN': '{at},有人尝试用此邮箱地址注册新的 Settle 账户。该邮箱已属于您的账户,因此没有创建任何账户,也没有任何更改。\n如果是您本人:请在 {sign_in} 用现有账户登录(如果忘记了密码,请联系客服重置)。\n如果不是您本人,可以忽略此邮件,您的账户是安全的。开启双重验证会更安全。',
  },
  api_key_created_title: { en: 'A new API key was created', 'zh-CN': '已创建新的 API 密钥' },
  api_key_created_body: { en: 'An API key named "{name}" ({prefix}…) was created at {at}.', 'zh-CN': '已于 {at} 创建名为“{name}”的 API 密钥({prefix}…)。' },
});

/** The "this wasn't me" pages (GET shows a confirmation; its button POSTs the freeze). */
export const notMePageMessages = defineMessages({
  confirm_title: { en: 'Was this sign-in not you?', 'zh-CN': '这次登录不是您本人吗?' },
  confirm_body: {
    en: 'If someone else signed in to your Settle account, freeze it now. While it is frozen nothing can leave it, and every session is signed out, including theirs. Incoming funds are kept safe as held. To lift the freeze later, change your password, set up two-factor authentication again and ask to be unfrozen.',
    'zh-CN': '如果有其他人登录了您的 Settle 账户,请立即冻结。冻结期间资金无法转出,所有登录会话(包括对方的)都会退出;转入的资金会被安全地暂存。之后要解冻,请修改密码、重新绑定双重验证并提交解冻申请。',
  },
  confirm_button: { en: 'Freeze my account', 'zh-CN': '冻结我的账户' },
  confirm_ignore: { en: 'If the sign-in was you, just close this page: nothing happens unless you press the button.', 'zh-CN': '如果是您本人登录,直接关闭此页面即可:不按按钮就不会有任何操作。' },
  done_title: { en: 'Your account is frozen', 'zh-CN': '您的账户已冻结' },
  done_body: {
    en: 'Your account is frozen and every session has been signed out. Sign in, change your password, set up two-factor authentication again and ask to be unfrozen.',
    'zh-CN': '您的账户已冻结,所有登录会话已退出。请登录后修改密码、重新绑定双重验证并申请解冻。',
  },
  expired_title: { en: 'This link no longer works', 'zh-CN': '此链接已失效' },
  expired_body: {
    en: 'This link was already used or has expired. If you still want to freeze your account, sign in and use "Freeze my account".',
    'zh-CN': '此链接已被使用或已过期。如果仍需冻结账户,请登录后使用“冻结我的账户”。',
  },
});

/** The email-confirmation mail (email-verification.ts): mail only, never an in-app notice. */
export const emailCodeMessages = defineMessages({
  email_code_title: { en: 'Confirm your email address for Settle', 'zh-CN': '确认您在 Settle 的邮箱地址' },
  email_code_body: {
    en: 'Your confirmation code is {code}\nEnter it in Settle (Security, or {link}) to confirm this address; until then nobody can send you transfers at it. The code works until {until}.\nIf you did not sign up for Settle or change your email there, ignore this mail.',
    'zh-CN': '您的确认码是 {code}\n请在 Settle 中输入(安全设置,或 {link})以确认这个邮箱地址;确认之前,别人无法通过这个地址向您转账。确认码在 {until} 之前有效。\n如果您没有注册 Settle 或修改邮箱,请忽略此邮件。',
  },
});
