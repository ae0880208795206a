// Words the accounts module shows people (the not-me pages, the email-confirmation mail), zh-CN
// and en. Its notices (new device, freeze, credentials …) are notify's: src/notify/notification-messages.ts.
import { defineMessages } from '../shared/i18n.ts';

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
