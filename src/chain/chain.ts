// The chain module's face: the only file other modules import from chain/. Chain holds adapters
// only — read a chain, derive addresses, sign and broadcast, run the local dev chain — and books
// nothing: what the platform holds and owes (sweeps, funding, reconciliation) is custody's, in
// payments/custody/. Chain imports nothing but config, db, jobs and shared.
//
// Reading: a ChainReader (evm.ts) per chain; writing: a Sender per key (hot-wallet.ts) that keeps
// nonces and signed bytes in the database; keys: HD deposit and invoice addresses (keys.ts).
export { ChainRpcError, type BlockHeader, type ChainEndpoint, type ChainReader, type Hex, type NativeTransfer, type OursFilter, type TokenTransfer, type TransactionInfo } from './chain-types.ts';
export { createEvmClient, createEvmReader, internalTransfers, TRANSFER_EVENT } from './evm.ts';
export { createDepositKeys, DEPOSIT_PATH_PREFIX, INVOICE_PATH_PREFIX, type DepositKeys } from './keys.ts';
export { checkAddressFormat, checkWithdrawalAddress, type AddressCheck, type AddressContext, type AddressRefusal } from './address-rules.ts';
export { Sender } from './hot-wallet.ts';
export { erc20TransferData, type PrepareResult, type TxIntent, type TxView } from './hot-wallet-rules.ts';
export { createHotWallets, devHotWalletKey, DEV_HOT_WALLET_INDEX, hotWalletWorker, type HotWalletsOptions } from './hot-wallets.ts';
export { getChainTx, getChainTxByPurpose, isOwnTransaction, type ChainTxRow } from './hot-wallet-store.ts';
export { addressSenders, type AddressSenders } from './deposit-senders.ts';
// The local dev chain (npm start with no chain configured) and the tests' anvil: dev only.
export { DEV_CHAIN_MNEMONIC, startAnvil, type AnvilHandle, type AnvilOptions } from './anvil.ts';
export { chainsForCli, devChainConfig, DEV_CHAIN_ID, DEV_DEPLOYER_INDEX, DEV_GENESIS_WEI, DEV_PAYER_INDEXES, prepareDevChain, readDevChainInfo, type DevChainHandle, type DevChainInfo } from './dev-chain.ts';
export { anvilAccount, deployTestUsdt, sendMint, sendNative, sendTokenTransfer } from './test-usdt.ts';
