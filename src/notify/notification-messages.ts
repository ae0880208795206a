// The words of every notification, zh-CN and en: `<template>_title` and `<template>_body`. A
// notification stores its template and params and is rendered in the reader's language when it
// is read (and in the recipient's language when mailed). The security notices came here from
// accounts (issue 14), unchanged, so that one catalogue speaks for every kind.
import { defineMessages } from '../shared/i18n.ts';

export const notificationMessages = defineMessages({
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
  registration_attempted_title: { en: 'Someone tried to register with your email', 'zh-CN': '有人尝试用您的邮箱注册' },
  registration_attempted_body: {
    en: 'At {at}, someone tried to create a new Settle account with this email address. It already belongs to your account, so nothing was created and nothing was changed.\nIf it was you: sign in with your existing account at {sign_in} (if you have forgotten the password, contact support to reset it).\nIf it was not you, you can ignore this message: your account is safe. Turning on two-factor authentication makes it safer still.',
    'zh-CN': '{at},有人尝试用此邮箱地址注册新的 Settle 账户。该邮箱已属于您的账户,因此没有创建任何账户,也没有任何更改。\n如果是您本人:请在 {sign_in} 用现有账户登录(如果忘记了密码,请联系客服重置)。\n如果不是您本人,可以忽略此邮件,您的账户是安全的。开启双重验证会更安全。',
  },
  api_key_created_title: { en: 'A new API key was created', 'zh-CN': '已创建新的 API 密钥' },
  api_key_created_body: { en: 'An API key named "{name}" ({prefix}…) was created at {at}.', 'zh-CN': '已于 {at} 创建名为“{name}”的 API 密钥({prefix}…)。' },
  deposit_credited_title: { en: 'Deposit credited: {amount} {asset}', 'zh-CN': '充值已到账:{amount} {asset}' },
  deposit_credited_body: { en: 'Your deposit of {amount} {asset} is credited to your balance and ready to use.', 'zh-CN': '您充值的 {amount} {asset} 已计入余额,可以使用了。' },
  deposit_held_title: { en: 'Deposit on hold: {amount} {asset}', 'zh-CN': '充值暂缓入账:{amount} {asset}' },
  deposit_held_body: { en: 'Your deposit of {amount} {asset} arrived but is held for now. {reason}', 'zh-CN': '您充值的 {amount} {asset} 已到达,但暂缓入账。{reason}' },
  deposit_released_title: { en: 'Held deposit released: {amount} {asset}', 'zh-CN': '暂缓的充值已入账:{amount} {asset}' },
  deposit_released_body: { en: 'Your deposit of {amount} {asset} was on hold and is now credited to your balance.', 'zh-CN': '您之前暂缓入账的 {amount} {asset} 充值现已计入余额。' },
  withdrawal_completed_title: { en: 'Withdrawal completed: {amount} {asset}', 'zh-CN': '提现已完成:{amount} {asset}' },
  withdrawal_completed_body: { en: 'Your withdrawal of {amount} {asset} is confirmed on chain.', 'zh-CN': '您提现的 {amount} {asset} 已在链上确认。' },
  withdrawal_failed_title: { en: 'Withdrawal failed: {amount} {asset}', 'zh-CN': '提现失败:{amount} {asset}' },
  withdrawal_failed_body: { en: 'Your withdrawal of {amount} {asset} did not go through. {reason}', 'zh-CN': '您提现的 {amount} {asset} 未能完成。{reason}' },
  transfer_received_title: { en: 'You received {amount} {asset}', 'zh-CN': '您收到了 {amount} {asset}' },
  transfer_received_body: { en: '{from} sent you {amount} {asset}; it is in your balance.', 'zh-CN': '{from} 向您转账 {amount} {asset},已计入余额。' },
  maintenance_announced_title: { en: 'Planned maintenance: {scope}', 'zh-CN': '计划维护:{scope}' },
  maintenance_announced_body: {
    en: 'From {starts} to {ends} (UTC), {scope} is under maintenance and your payments in flight there may wait until it ends. {message}',
    'zh-CN': '{starts} 至 {ends}(UTC){scope} 进行维护,期间您在途的相关付款可能要等维护结束后才会继续。{message}',
  },
});
